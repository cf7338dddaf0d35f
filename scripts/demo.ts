// `npm run demo`: starts stint on free ports with a fresh data folder, replays the incident
// against it, and prints where it was stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayIncident } from '../src/demo/incident.js';
import { freePort, startStint } from '../src/runtime/node/launch.js';

const dir = mkdtempSync(join(tmpdir(), 'stint-demo-'));
const adminToken = `demo-${crypto.randomUUID()}`;
const port = await freePort();
const stint = await startStint({ STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(port), STINT_APPROVAL_PORT: String(await freePort()), STINT_ADMIN_TOKEN: adminToken });
console.log(`stint started: ${stint.broker} (data in ${dir})\n`);
try {
  const result = await replayIncident({
    issuer: `http://localhost:${port}`,
    brokerUrl: stint.broker,
    adminToken,
    log: (s) => console.log(`${String(s.n).padStart(2)}. ${s.stop ? '■ STOP ' : ''}${s.title}\n    → ${s.outcome}  (${s.ms.toFixed(1)} ms)`),
  });
  const stop = result.steps.find((s) => s.stop);
  console.log(`\nstopped at step ${stop?.n ?? '—'}; production volumes deleted: ${result.deleted.length === 0 ? 'none' : result.deleted.join(', ')}`);
  process.exitCode = stop && result.deleted.length === 0 ? 0 : 1;
} finally {
  await stint.stop();
  rmSync(dir, { recursive: true, force: true });
}
