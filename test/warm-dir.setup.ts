// Global set-up of the node tests: hook processes spawned by the tests start a warm guard
// (src/guard/warm.ts) the way they do on a user's machine. Its socket goes in a directory of this
// run's own, so a run neither asks a warm guard of the user's nor leaves one behind: when the
// directory is removed at the end, the warm guard finds its socket gone and leaves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'stint-test-run-'));
  process.env.XDG_RUNTIME_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
