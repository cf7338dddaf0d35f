// `stint token <capability>`: a capability token of the current task, for one resource (or the
// approval request to wait for, when the capability is destructive).
import type { Command } from 'commander';
import { StintAgentError } from '../../sdk/agent.js';
import { saveState } from '../../guard/state.js';
import { brokerCall, currentTask, loadKey, requireState } from '../agent.js';
import { fail } from '../shared.js';

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
      const task = await currentTask(s, await loadKey(keyFile));
      const cap = await brokerCall(s.url, async () => {
        try {
          return await task.capability({ scope: capability, ...(o.resource ? { resource: o.resource } : {}) });
        } catch (e) {
          // A destructive capability: say which approval request to wait for.
          if (e instanceof StintAgentError && e.code === 'approval_required') {
            return fail(`${capability} needs approval on the isolated path: auth_req_id ${e.body.auth_req_id} (expires in ${e.body.expires_in}s)`, 'approval_required');
          }
          throw e;
        }
      });
      // the task's own token: the guard must know it is not a new credential
      saveState({ ...s, tokens: [...(s.tokens ?? []).slice(-20), cap.accessToken] });
      console.log(o.json ? JSON.stringify(cap.raw) : cap.accessToken);
    });
}
