// `stint token <capability>`: a capability token of the current task, for one resource (or the
// approval request to wait for, when the capability is destructive).
import type { Command } from 'commander';
import { AgentClient } from '../../client/agent.js';
import { saveState } from '../../guard/state.js';
import { fail, loadAgentKey, requireState, taskKey } from './task.js';

export function register(program: Command): void {
  program
    .command('token <capability>')
    .description('print a capability token of the current task')
    .option('--resource <uri>', 'the resource it is for (RFC 8707)')
    .option('--key <file>', 'the agent key file (default: the one the task was opened with, or STINT_AGENT_KEY)')
    .option('--json', 'print the whole token response as JSON')
    .action(async (capability: string, o) => {
      const s = requireState();
      const keyFile = o.key ?? s.agent_key ?? process.env.STINT_AGENT_KEY ?? fail('--key (or STINT_AGENT_KEY) is required');
      const agent = new AgentClient({ issuer: s.issuer, brokerUrl: s.url, clientId: s.client_id, key: await loadAgentKey(keyFile), dpopKey: await taskKey(s) });
      const res = await agent.exchange(s.task_token, capability, o.resource ? { resource: o.resource } : {}).catch((e) => fail(`the broker at ${s.url} cannot be reached: ${(e as Error).message}`));
      if (res.status === 400 && res.body.error === 'approval_required') {
        if (o.json) console.log(JSON.stringify(res.body));
        else console.error(`stint: ${capability} needs approval: auth_req_id ${res.body.auth_req_id} (expires in ${res.body.expires_in}s)`);
        process.exit(3);
      }
      if (res.status !== 200) return fail(`${res.status} ${res.body.error}: ${res.body.error_description ?? ''}`);
      // the task's own token: the guard must know it is not a new credential
      saveState({ ...s, tokens: [...(s.tokens ?? []).slice(-20), res.body.access_token] });
      console.log(o.json ? JSON.stringify(res.body) : res.body.access_token);
    });
}
