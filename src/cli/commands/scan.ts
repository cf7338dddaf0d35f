// `stint scan [dir]`: the provider credentials lying in a workspace and in its git history, found
// with the guard's scanner (by format and by position), and the custody entry each should
// become; `--import` moves them into custody and leaves a reference in the files. Values are
// never printed: a kind, a file and line (or a commit and path), a fingerprint.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_MAX_COMMITS, scanHistory, type HistoryFinding } from '../../scan/history.js';
import { importFindings, reference, type Imported, type Skipped } from '../../scan/import.js';
import { scanLocated, scanWorkspace, type ScanFinding } from '../../scan/workspace.js';
import { fail, operatorCall, operatorOptions, output, table, type OperatorOpts } from '../shared.js';

export { scanWorkspace, type ScanFinding };

interface ScanOpts extends OperatorOpts {
  environment?: string;
  history: boolean;
  maxCommits?: string;
  import?: boolean;
}

interface Report {
  root: string;
  findings: ScanFinding[];
  history?: { commits: number; findings: HistoryFinding[] };
  imported?: Imported[];
  skipped?: Skipped[];
}

function render(r: Report): string {
  const out: string[] = [];
  if (r.imported) {
    for (const i of r.imported) {
      out.push(`moved a ${i.kind} from ${i.places.join(', ')} into custody "${i.name}" (sent to ${i.host}); the files now say ${reference(i.name)}; run with: stint run --env ${i.variable ?? '<VARIABLE>'}=${i.name} -- …`);
    }
    for (const s of r.skipped ?? []) out.push(`left ${s.kind} at ${s.place}: ${s.why}`);
    if (!r.imported.length && !(r.skipped ?? []).length) out.push(`no credentials found under ${r.root}`);
  } else if (r.findings.length === 0) out.push(`no credentials found under ${r.root}`);
  else {
    out.push(table([['FILE:LINE', 'KIND', 'SHA256'], ...r.findings.map((f) => [`${f.file}:${f.line}`, f.kind, f.fingerprint])]));
    out.push('', ...new Set(r.findings.map((f) => f.suggestion)));
  }
  if (r.history?.findings.length) {
    out.push('', `in git history (${r.history.commits} commits read): committed credentials have left with every clone; rotate them at the provider`);
    out.push(table([['COMMIT', 'FILE:LINE', 'KIND', 'SHA256'], ...r.history.findings.map((f) => [f.commit.slice(0, 12), `${f.file}:${f.line}`, f.kind, f.fingerprint])]));
  }
  return out.join('\n');
}

export function register(program: Command): void {
  operatorOptions(
    program
      .command('scan [dir]')
      .description('find provider credentials in a workspace and its git history (never printing them), say which custody entry each should become, or --import them')
      .option('--environment <environment>', 'the environment the credentials act on (for the suggestions; required with --import)')
      .option('--no-history', 'do not read the git history')
      .option('--max-commits <n>', `commits of history read at most (default ${DEFAULT_MAX_COMMITS})`)
      .option('--import', "move each found credential into custody (operator: STINT_ADMIN_TOKEN, the broker's URL) and replace it in the files with a reference"),
  )
    .addHelpText('after', `\nWith --import, each distinct value becomes one custody entry (Authorization: Bearer, bound to the host its kind is sent to) and every occurrence in the files becomes ${reference('NAME')}. Credentials in git history cannot be moved: rotate them.\nExit status: 0 when nothing is found (or everything found was imported), 1 when credentials remain, 2 on failure.`)
    .action(async (dir: string | undefined, o: ScanOpts) => {
      const root = resolve(dir ?? '.');
      const maxCommits = o.maxCommits === undefined ? DEFAULT_MAX_COMMITS : Number(o.maxCommits);
      if (!Number.isInteger(maxCommits) || maxCommits < 1) fail('--max-commits must be a whole number, at least 1');
      if (o.import && !o.environment) fail('--import needs --environment (the environment the credentials act on)');
      const history = o.history ? scanHistory(root, maxCommits) : undefined;
      let report: Report;
      if (o.import) {
        const located = scanLocated(root, o.environment);
        const { imported, skipped } = await importFindings(root, o.environment!, located, async (e) => void (await operatorCall(o, 'POST', '/v1/custody', e)));
        report = { root, findings: scanWorkspace(root, o.environment), imported, skipped };
      } else report = { root, findings: scanWorkspace(root, o.environment) };
      if (history) report.history = history;
      output(o.json, report, render);
      if (report.findings.length || history?.findings.length) process.exitCode = 1;
    });
}
