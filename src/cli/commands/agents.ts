import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail, oneLine, operatorCall, operatorOptions, output, table, type OperatorOpts } from '../shared.js';

type Agent = { client_id: string; name: string; owner: string; status: string; templates: string[]; created_at: string; locked_by?: { task_id: string; reason: string | null } };

/** `locked (rule: reason, task …)`: a lock always says which stop made it. */
const status = (a: Agent) => (a.locked_by ? `locked by task ${a.locked_by.task_id} (${oneLine(a.locked_by.reason ?? 'no reason recorded')})` : a.status);

/** Reads a public key from a "stint keygen" file, a JWK file, or a JWKS file. */
function publicKeys(file: string): unknown[] {
  let v: any;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (v.public_jwk) return [v.public_jwk];
  if (Array.isArray(v.keys)) return v.keys;
  if (v.kty) return [v];
  return fail(`${file} holds no public key (expected a "stint keygen" file, a JWK or a JWKS)`);
}

const line = (a: Agent) => `${a.client_id}  ${status(a)}  ${oneLine(a.name)} (owner ${oneLine(a.owner)})  templates: ${a.templates.join(', ') || '-'}`;

/** `stint agents add|list|show|release`. */
export function register(program: Command): void {
  const agents = program.command('agents').description('register, list and release agents (operator)');
  operatorOptions(
    agents
      .command('add')
      .description('register an agent with its public key; prints its client_id')
      .requiredOption('--name <name>', "the agent's name")
      .requiredOption('--owner <name>', 'the person answerable for the agent (an approver name)')
      .requiredOption('--key <file>', 'its public key: a "stint keygen" file, a JWK or a JWKS (only public members are sent)')
      .option('--templates <t1,t2>', 'comma-separated policy templates it may open'),
  ).action(async (o: OperatorOpts & { name: string; owner: string; key: string; templates?: string }) => {
    const templates = o.templates?.split(',').map((t) => t.trim()).filter(Boolean);
    const keys = publicKeys(o.key).map((k: any) => Object.fromEntries(Object.entries(k).filter(([m]) => m !== 'd')));
    const body = await operatorCall(o, 'POST', '/v1/agents', { name: o.name, owner: o.owner, jwks: { keys }, ...(templates ? { templates } : {}) });
    output(o.json, body, (a: Agent) => `registered ${line(a)}`);
  });
  operatorOptions(
    agents
      .command('list')
      .description('list agents, newest first')
      .option('--limit <n>', 'agents per page', '50')
      .option('--cursor <cursor>', 'continue from a previous page (its next_cursor)')
      .option('--all', 'follow next_cursor to the end'),
  ).action(async (o: OperatorOpts & { limit: string; cursor?: string; all?: boolean }) => {
    const all: Agent[] = [];
    let cursor = o.cursor;
    let next: string | undefined;
    do {
      const q = new URLSearchParams({ limit: o.limit, ...(cursor ? { cursor } : {}) });
      const page = await operatorCall(o, 'GET', `/v1/agents?${q}`);
      all.push(...page.agents);
      next = page.next_cursor;
      cursor = next;
    } while (o.all && cursor);
    output(o.json, { agents: all, ...(next ? { next_cursor: next } : {}) }, (d) =>
      d.agents.length
        ? table([['CLIENT_ID', 'STATUS', 'NAME', 'OWNER', 'TEMPLATES'], ...d.agents.map((a) => [a.client_id, a.locked_by ? `locked (${oneLine(a.locked_by.reason ?? '?').split(':')[0]})` : a.status, oneLine(a.name), oneLine(a.owner), a.templates.join(',') || '-'])]) +
          (d.next_cursor ? `\nmore: --cursor ${d.next_cursor}` : '')
        : 'no agents',
    );
  });
  operatorOptions(agents.command('show').description('one agent: status (and the stop that locked it), owner, templates, keys').argument('<client_id>', "the agent's client_id")).action(
    async (id: string, o: OperatorOpts) => {
      const a = await operatorCall(o, 'GET', `/v1/agents/${encodeURIComponent(id)}`);
      output(o.json, a, (v: Agent & { jwks: { keys: { kid?: string; kty: string; crv?: string }[] } }) =>
        [
          `${v.client_id}  ${oneLine(v.name)}`,
          `  status     ${status(v)}`,
          `  owner      ${oneLine(v.owner)}`,
          `  templates  ${v.templates.join(', ') || '-'}`,
          `  keys       ${v.jwks.keys.map((k) => `${k.kty}${k.crv ? `/${k.crv}` : ''}${k.kid ? ` ${k.kid}` : ''}`).join(', ')}`,
          `  created    ${v.created_at}`,
          ...(v.status === 'locked' ? [`  release it with: stint agents release ${v.client_id}`] : []),
        ].join('\n'),
      );
    },
  );
  operatorOptions(agents.command('release').description('release an agent locked after a stop event').argument('<client_id>', "the agent's client_id")).action(
    async (id: string, o: OperatorOpts) => {
      const body = await operatorCall(o, 'POST', `/v1/agents/${encodeURIComponent(id)}/release`);
      output(o.json, body, (a: Agent) => `released ${line(a)}`);
    },
  );
}
