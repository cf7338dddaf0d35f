import { OperatorClient } from '../client/operator.js';
import { productionApi } from './resources.js';

export interface Step {
  n: number;
  title: string;
  outcome: string;
  ms: number;
  /** The step where stint stopped the agent. */
  stop?: boolean;
}

export interface IncidentResult {
  steps: Step[];
  /** Volumes the production API actually deleted: must stay empty. */
  deleted: string[];
  stagingTask: string;
  coder: string;
}

/**
 * The incident, replayed against a running stint: a coding agent on a staging task hits a
 * credential mismatch, finds a production token in a file, and tries to delete production
 * volumes with it. Every step is timed; the run shows where stint stopped it.
 */
export async function replayIncident(o: { issuer: string; brokerUrl?: string; adminToken: string; log?: (s: Step) => void }): Promise<IncidentResult> {
  const operator = new OperatorClient(o.issuer, o.adminToken, { brokerUrl: o.brokerUrl });
  const api = await productionApi(operator, { brokerUrl: o.brokerUrl });
  const steps: Step[] = [];
  const step = async (title: string, fn: () => Promise<string | { outcome: string; stop?: boolean }>) => {
    const t0 = performance.now();
    const r = await fn();
    const s: Step = { n: steps.length + 1, title, ms: performance.now() - t0, ...(typeof r === 'string' ? { outcome: r } : r) };
    steps.push(s);
    o.log?.(s);
    return s;
  };
  const describe = (a: { status: number; body: Record<string, any> }) => (a.status === 200 ? `200 ${a.body.token_type} token, ${a.body.expires_in}s` : `${a.status} ${a.body.error}: ${a.body.error_description}`);

  try {
    // Somewhere else, a production maintenance bot works with a production credential...
    const opsBot = await operator.agent('ops-bot', 'carol', ['ops-maintenance']);
    const opsTask = await opsBot.openTask('ops-maintenance', 'production', 'nightly index maintenance');
    const leaked = await opsBot.exchange(opsTask.body.access_token, 'db.read');
    const fileOnDisk = `# ops notes\nPROD_TOKEN=${leaked.body.access_token}\n`;

    const coder = await operator.agent('coder', 'alice', ['fix-credentials']);
    let taskToken = '';
    let taskId = '';
    await step('coder opens a staging task: fix-credentials', async () => {
      const t = await coder.openTask('fix-credentials', 'staging', 'fix the staging service credentials');
      taskToken = t.body.access_token;
      taskId = t.body.task_id;
      return `${describe(t)}, task ${taskId}`;
    });
    await step('coder gets config.read for staging', async () => describe(await coder.exchange(taskToken, 'config.read')));
    await step('credential mismatch: coder asks for db.read', async () => describe(await coder.exchange(taskToken, 'db.read')));
    const found = /PROD_TOKEN=(\S+)/.exec(fileOnDisk)![1]!;
    await step('coder finds a production token in a file', async () => `token for ${JSON.parse(atob(found.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).aud}`);
    await step('coder calls DELETE /volumes/prod-db with it', async () => {
      const res = await api.app.request(await coder.request(`${api.audience}/prod-db`, found, { method: 'DELETE' }));
      const body = (await res.json()) as Record<string, string>;
      const task = await operator.task(taskId);
      return { outcome: `${res.status} ${body.error ?? ''}: ${body.error_description ?? JSON.stringify(body)}; staging task ${task.body.status} (${task.body.status_reason})`, stop: task.body.status === 'stopped' };
    });
    await step('coder asks stint for volume.delete', async () => describe(await coder.exchange(taskToken, 'volume.delete')));
    await step('coder retries DELETE /volumes/prod-db-backups', async () => {
      const res = await api.app.request(await coder.request(`${api.audience}/prod-db-backups`, found, { method: 'DELETE' }));
      return `${res.status} ${((await res.json()) as Record<string, string>).error_description}`;
    });
    await step('coder tries to open a new task', async () => describe(await coder.openTask('fix-credentials', 'staging', 'try again')));
    await step('the leaked token, at introspection', async () => `active: ${(await operator.introspect(found)).active}`);
    return { steps, deleted: api.deleted, stagingTask: taskId, coder: coder.clientId };
  } finally {
    api.close();
  }
}

/** A benign task from start to finish: nothing here may ever be refused or stopped. */
export async function benignTask(o: { issuer: string; brokerUrl?: string; adminToken: string }, name: string) {
  const operator = new OperatorClient(o.issuer, o.adminToken, { brokerUrl: o.brokerUrl });
  const agent = await operator.agent(name, 'alice', ['fix-credentials']);
  const task = await agent.openTask('fix-credentials', 'staging', `${name}: rotate a staging credential`);
  const answers = [task];
  for (const scope of ['config.read', 'config.write', 'config.read']) answers.push(await agent.exchange(task.body.access_token, scope));
  answers.push(await agent.completeTask(task.body.task_id, task.body.access_token));
  const view = await operator.task(task.body.task_id);
  return { statuses: answers.map((a) => a.status), task: view.body };
}
