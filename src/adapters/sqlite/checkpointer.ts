import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// The worker's whole program: its own connection to the file, a PASSIVE checkpoint on a timer.
// PASSIVE never waits for, nor blocks, the writer; frames a reader still needs are left for
// the next round. The connection keeps SQLite's default synchronous=FULL for the WAL, so the
// checkpoint's fsyncs are complete before the WAL is reused.
const PROGRAM = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: next round */ }
}, workerData.intervalMs);
parentPort.once('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * Checkpoints a WAL database from a worker thread. A checkpoint copies the WAL into the main
 * file and fsyncs both (≈3 ms each on this machine's disk); left to SQLite's automatic
 * checkpoint, that runs inside whichever commit crosses the threshold, on the main thread,
 * stalling every request behind it.
 */
export function startCheckpointer(file: string, intervalMs = 250): () => Promise<void> {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(PROGRAM, { eval: true, workerData: { file, module, intervalMs } });
  worker.unref();
  // A failing checkpointer costs only WAL growth; the main connection's own automatic
  // checkpoint (openSqlite sets its threshold) remains as the backstop.
  worker.on('error', () => undefined);
  let exited = false;
  worker.once('exit', () => (exited = true));
  // Stopping keeps the process alive until the worker is gone (a referenced timer): awaited at
  // the top level of a script, an unreferenced wait would end the process with code 13.
  return () =>
    new Promise<void>((resolve) => {
      if (exited) return resolve();
      const kill = setTimeout(() => void worker.terminate().finally(resolve), 2000);
      worker.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      worker.postMessage('stop');
    });
}
