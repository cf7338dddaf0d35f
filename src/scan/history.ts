// Credentials in a workspace's git history: every line a commit added (`git log -p`, all refs),
// read by the same scanner as the files. A credential that was ever committed has left the
// machine with every clone and push: it must be rotated at its provider, not just moved.
// Reported by commit and path (and the line in that commit), never by value.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { scanLine, SKIP } from './workspace.js';

export interface HistoryFinding {
  /** The oldest commit (of those read) that added it at this path. */
  commit: string;
  file: string;
  line: number;
  kind: string;
  fingerprint: string;
}

export const DEFAULT_MAX_COMMITS = 2000;

/** Undefined when `root` is not a git work tree (or git is missing); else what history holds. */
export function scanHistory(root: string, maxCommits = DEFAULT_MAX_COMMITS): { findings: HistoryFinding[]; commits: number } | undefined {
  if (!existsSync(join(root, '.git'))) return undefined;
  // -U0: only the changed lines; %x00 marks each commit; no external diff drivers, no colour.
  const r = spawnSync('git', ['-C', root, 'log', '-p', '--all', '--no-color', '--no-ext-diff', '--no-renames', '-U0', `--max-count=${maxCommits}`, '--format=%x00commit %H'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error || r.status !== 0) return undefined;
  const byKey = new Map<string, HistoryFinding>();
  let commit = '';
  let file: string | undefined;
  let line = 0;
  let commits = 0;
  for (const raw of r.stdout.split('\n')) {
    if (raw.startsWith('\0commit ')) {
      commit = raw.slice(8).trim();
      commits++;
      file = undefined;
    } else if (raw.startsWith('+++ ')) {
      const p = raw.slice(4);
      file = p === '/dev/null' ? undefined : p.replace(/^b\//, '');
      if (file && file.split('/').some((seg) => SKIP.has(seg))) file = undefined;
    } else if (raw.startsWith('@@')) {
      line = Number(/\+(\d+)/.exec(raw)?.[1] ?? 0);
    } else if (raw.startsWith('+') && file) {
      for (const f of scanLine(raw.slice(1), file, 'history')) {
        // newest first: a later sighting of the same value at the same path is an older commit
        byKey.set(`${f.fingerprint}|${file}`, { commit, file, line, kind: f.kind, fingerprint: f.fingerprint });
      }
      line++;
    }
  }
  return { findings: [...byKey.values()], commits };
}
