// `stint task open|status|complete`: the person or harness that starts an agent opens its task on
// the agent's machine (the agent never chooses its own scope); the task's DPoP key is made here
// and kept, with the task token, under STINT_HOME (mode 0600).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { generateAgentKey, StintAgent } from '../../sdk/agent.js';
import { clearState, currentFile, saveState, stintHome, type TaskState } from '../../guard/state.js';
import { agentBrokerUrl, brokerCall, currentTask, exportKey, loadKey, requireState } from '../agent.js';
import { DEFAULT_BROKER, fail } from '../shared.js';
import { printable } from '../render.js';

export function register(program: Command): void {
  const task = program.command('task').description("the agent's current task on this machine");

  task
    .command('open')
    .description('open a task with a fresh DPoP key and make it the current task (prints the task id)')
    .requiredOption('--template <template>', 'policy template')
    .requiredOption('--environment <environment>', 'environment, e.g. staging')
    .requiredOption('--purpose <text>', 'what the task is for, in words')
    .option('--client-id <id>', 'the agent (or STINT_CLIENT_ID)')
    .option('--key <file>', 'the agent key file written by "stint keygen" (or STINT_AGENT_KEY)')
    .option('--url <url>', `the broker (default: $STINT_URL or ${DEFAULT_BROKER})`)
    .option('--issuer <url>', "the broker's issuer (default: read from the broker's metadata)")
    .option('--json', 'print JSON')
    .action(async (o) => {
      const clientId = o.clientId ?? process.env.STINT_CLIENT_ID ?? fail('--client-id (or STINT_CLIENT_ID) is required');
      const keyFile = o.key ?? process.env.STINT_AGENT_KEY ?? fail('--key (or STINT_AGENT_KEY) is required');
      const url = agentBrokerUrl(o);
      const agent = new StintAgent({ url, issuer: o.issuer, clientId, key: await loadKey(keyFile) });
      const dpop = await generateAgentKey();
      const opened = await brokerCall(url, () => agent.openTask({ template: o.template, environment: o.environment, purpose: o.purpose }, { dpopKey: dpop }));
      const state: TaskState = {
        version: 1,
        url,
        issuer: await agent.issuer(),
        client_id: clientId,
        task_id: opened.id,
        template: o.template,
        environment: o.environment,
        purpose: o.purpose,
        task_token: opened.taskToken,
        expires_at: Math.floor(opened.expiresAt / 1000),
        dpop: await exportKey(dpop),
        agent_key: resolve(keyFile),
      };
      saveState(state);
      if (o.json) console.log(JSON.stringify({ task_id: state.task_id, environment: state.environment, template: state.template, expires_at: state.expires_at, file: currentFile(stintHome()) }));
      else {
        console.error(`task ${state.task_id} (${state.template} in ${state.environment}) saved to ${currentFile(stintHome())}`);
        console.log(state.task_id);
      }
    });

  task
    .command('status')
    .description('the current task as the broker sees it')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const s = requireState();
      const t = await currentTask(s);
      const body = await brokerCall(s.url, () => t.status());
      if (o.json) return console.log(JSON.stringify(body, null, 2));
      console.log(`${body.id ?? s.task_id}  ${body.status}${body.status_reason ? ` (${printable(String(body.status_reason))})` : ''}`);
      console.log(`  ${s.template} in ${s.environment}: ${printable(s.purpose)}`);
      for (const e of (body.events ?? []).slice(-15)) console.log(printable(`  ${e.at}  ${String(e.kind).padEnd(8)} ${e.detail?.type ?? ''} ${e.detail?.reason ?? e.detail?.summary ?? ''}`));
    });

  task
    .command('complete')
    .description('end the current task: its tokens stop working')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const s = requireState();
      const t = await currentTask(s);
      const body = await brokerCall(s.url, () => t.complete());
      clearState();
      console.log(o.json ? JSON.stringify(body) : `task ${s.task_id} completed`);
    });
}
