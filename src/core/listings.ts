// The operator's listings: tasks (filtered) and agents, newest first, one keyset page at a time.
import { agentView } from './agents.js';
import type { Core } from './context.js';
import { base64url } from 'jose';
import { StintError } from './errors.js';
import type { AgentRecord, ListCursor, TaskRecord, TaskStatus } from './ports.js';
import { currentTask } from './token-state.js';

export const DEFAULT_PAGE = 50;

export interface TaskSummary {
  id: string;
  status: TaskStatus;
  status_reason: string | null;
  agent: string;
  template: string;
  environment: string;
  purpose: string;
  created_at: string;
  expires_at: string;
}

export const taskSummary = (t: TaskRecord): TaskSummary => ({
  id: t.id,
  status: t.status,
  status_reason: t.statusReason,
  agent: t.agentId,
  template: t.template,
  environment: t.environment,
  purpose: t.purpose,
  created_at: new Date(t.createdAt).toISOString(),
  expires_at: new Date(t.expiresAt).toISOString(),
});

export const encodeCursor = (c: ListCursor) => base64url.encode(JSON.stringify([c.createdAt, c.id]));

export function decodeCursor(raw: string | undefined): ListCursor | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(new TextDecoder().decode(base64url.decode(raw))) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return { createdAt: v[0], id: v[1] };
  } catch {
    // falls through to the refusal
  }
  throw new StintError('invalid_request', 'cursor: not a next_cursor from a previous page');
}

export interface TaskListRequest {
  status?: TaskStatus;
  agent?: string;
  environment?: string;
  cursor?: string;
  limit?: number;
}

/**
 * A page of tasks. A stored `active` row may have reached its expiry or fallen under a scope
 * revocation; it is settled here as every other reader settles it, so `status=active` never
 * lists a dead task and `status=expired|revoked` finds those not yet settled. A page may
 * therefore hold fewer than `limit` tasks: follow `next_cursor` until it is absent.
 */
export async function listTasks(core: Core, r: TaskListRequest): Promise<{ tasks: TaskSummary[]; next_cursor?: string }> {
  const limit = r.limit ?? DEFAULT_PAGE;
  const statuses: TaskStatus[] | undefined = !r.status ? undefined : r.status === 'expired' || r.status === 'revoked' ? [r.status, 'active'] : [r.status];
  const rows = await core.store.listings.tasks({ statuses, agentId: r.agent, environment: r.environment, before: decodeCursor(r.cursor), limit });
  const settled = await Promise.all(rows.map(async (t) => (t.status === 'active' ? ((await currentTask(core, t.id)) ?? t) : t)));
  const tasks = settled.filter((t) => !r.status || t.status === r.status).map(taskSummary);
  const last = rows[rows.length - 1];
  return { tasks, ...(rows.length === limit && last ? { next_cursor: encodeCursor(last) } : {}) };
}

/** Why a locked agent is locked: the stop of its newest stopped task (rule and reason). */
async function lockedBy(core: Core, agent: AgentRecord) {
  if (agent.status !== 'locked') return {};
  const [t] = await core.store.listings.tasks({ statuses: ['stopped'], agentId: agent.id, limit: 1 });
  return t ? { locked_by: { task_id: t.id, reason: t.statusReason } } : {};
}

export const agentDetail = async (core: Core, agent: AgentRecord) => ({ ...agentView(agent), ...(await lockedBy(core, agent)) });

export async function listAgents(core: Core, r: { cursor?: string; limit?: number }) {
  const limit = r.limit ?? DEFAULT_PAGE;
  const rows = await core.store.listings.agents({ before: decodeCursor(r.cursor), limit });
  const last = rows[rows.length - 1];
  return { agents: await Promise.all(rows.map((a) => agentDetail(core, a))), ...(rows.length === limit && last ? { next_cursor: encodeCursor(last) } : {}) };
}
