// `npx stint …`: the operator's, approver's and agent's command line. Each command group is a
// module in commands/ that registers itself on the program.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { register as agents } from './commands/agents.js';
import { register as approvals } from './commands/approvals.js';
import { register as approvers } from './commands/approvers.js';
import { register as audit } from './commands/audit.js';
import { register as aws } from './commands/aws.js';
import { register as keygen } from './commands/keygen.js';
import { register as policy } from './commands/policy.js';
import { register as resources } from './commands/resources.js';
import { register as revoke } from './commands/revoke.js';
import { register as tasks } from './commands/tasks.js';
import { register as task } from './commands/task.js';
import { register as token } from './commands/token.js';
import { register as guard } from './commands/guard.js';
import { register as vault } from './commands/vault.js';
import { register as run } from './commands/run.js';
import { register as scan } from './commands/scan.js';
import { register as replay } from './commands/replay.js';
import { CliError, oneLine } from './shared.js';

/** The project's version (package.json is two folders up from src/cli and from dist/cli). */
const version = () => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function buildProgram(): Command {
  const program = new Command('stint')
    .description('stint: task-bound, environment-scoped, sender-constrained credentials for AI agents')
    .configureOutput({ outputError: (str, write) => write(`stint: ${str.replace(/^error: /, '').trim()} (see --help)\n`) })
    .version(version(), '-V, --version', 'print the version')
    .exitOverride();
  for (const register of [keygen, agents, resources, tasks, revoke, audit, policy, approvers, approvals, aws, task, token, guard, vault, run, scan, replay]) register(program);
  // Subcommands inherit the exit override so that usage errors exit 2 with one line too.
  const inherit = (c: Command) => {
    for (const sub of c.commands) {
      sub.exitOverride().configureOutput(program.configureOutput());
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; commander already printed its one-line reason otherwise.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  const json = process.argv.includes('--json');
  const code = e instanceof CliError ? e.code : 'failed';
  const message = oneLine(e instanceof CliError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  console.error(json ? JSON.stringify({ error: code, error_description: message }) : `stint: ${message}`);
  process.exit(2);
}
