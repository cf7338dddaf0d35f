// Crash safety: run load against stint, SIGKILL the whole thing at a random moment, restart
// on the same data, and check that nothing acknowledged was lost. `npm run crash` (KILLS=20).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApproverClient, type ApproverKeyFile } from '../src/client/approver.js';
import { OperatorClient } from '../src/client/operator.js';
import { newKey } from '../src/client/proofs.js';
import { freePort, startStint, type Started } from '../src/runtime/node/launch.js';

export interface CrashReport {
  kills: number;
  issued: number;
  revocations: number;
  stops: number;
  grants: number;
  lost: { revocations: number; stops: number; issuedMissingFromAudit: number; grantsUsedTwice: number; chainBroken: number };
}

const secrets = {
  STINT_ADMIN_TOKEN: `crash-admin-${crypto.randomUUID()}`,
  STINT_APPROVAL_ADMIN_TOKEN: `crash-approval-${crypto.randomUUID()}`,
  STINT_MASTER_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'),
  STINT_APPROVAL_MASTER_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'),
};

export async function crashTest(o: { kills: number; log?: (m: string) => void }): Promise<CrashReport> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'stint-crash-'));
  const port = await freePort();
  const approvalPort = await freePort();
  const env = { ...secrets, STINT_RATE_LIMIT: 'off', STINT_DB: join(dir, 'stint.db'), STINT_PORT: String(port), STINT_APPROVAL_PORT: String(approvalPort) };
  const issuer = `http://localhost:${port}`;
  const start = () => startStint(env);
  const acked = { issued: new Set<string>(), revokedTasks: new Set<string>(), stoppedTasks: new Set<string>(), grantsUsed: new Set<string>() };
  const lost = { revocations: 0, stops: 0, issuedMissingFromAudit: 0, grantsUsedTwice: 0, chainBroken: 0 };
  const totals = { revocations: 0, stops: 0 };
  let stint: Started = await start();
  try {
    const op = () => new OperatorClient(issuer, secrets.STINT_ADMIN_TOKEN, { brokerUrl: stint.broker });
    // Approvers, registered once; the approval service keeps them across restarts.
    const approvers: ApproverClient[] = [];
    for (const name of ['ana', 'ben']) {
      const k = await newKey();
      const res = await fetch(`${stint.approvals}/v1/approvers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${secrets.STINT_APPROVAL_ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, groups: ['sre'], jwk: k.publicJwk }),
      });
      const { approver_id } = (await res.json()) as { approver_id: string };
      const file: ApproverKeyFile = { alg: 'EdDSA', private_jwk: { ...(await crypto.subtle.exportKey('jwk', k.privateKey)) } as never, public_jwk: k.publicJwk };
      approvers.push(new ApproverClient(stint.approvals, approver_id, file));
    }
    // Grants are consumed by a resource service's introspection (the operator's only looks).
    const rs = await op().resource('crash-volumes', 'https://api.production.example/volumes');
    const consume = async (token: string) => {
      const res = await fetch(`${stint.broker}/introspect`, {
        method: 'POST',
        headers: { Authorization: `Basic ${btoa(`${rs.client_id}:${rs.client_secret}`)}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as { active?: boolean };
    };
    const coder = await op().agent('crash-coder', 'carol', ['fix-credentials']);
    const CONFIG = 'https://api.staging.example/config';
    let thieves = 0;
    const ops = await op().agent('crash-ops', 'carol', ['ops-maintenance']);

    for (let k = 0; k < o.kills; k++) {
      // A grant, ready to be consumed under load.
      const prod = await ops.openTask('ops-maintenance', 'production', `crash ${k}`);
      const ask = await ops.exchange(prod.body.access_token, 'volume.delete');
      for (const a of approvers) await a.decide(ask.body.auth_req_id, 'approve');
      const grant = (await ops.token({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: ask.body.auth_req_id })).body.access_token as string;

      // Load: tasks get capabilities, some are revoked, some stopped, the grant is introspected.
      let running = true;
      const worker = async (w: number) => {
        while (running) {
          try {
            const t = await coder.openTask('fix-credentials', 'staging', `w${w}`);
            if (t.status !== 200) continue;
            const c = await coder.exchange(t.body.access_token, 'config.read');
            if (process.env.CRASH_DEBUG && c.status !== 200) console.error("exchange", c.status, c.body);
            if (c.status === 200) acked.issued.add(JSON.parse(atob(c.body.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).jti);
            if (w % 3 === 0) {
              const r = await op().call('POST', `/v1/tasks/${t.body.task_id}/revoke`, {});
              if (r.status === 200) acked.revokedTasks.add(t.body.task_id);
            } else if (w % 3 === 1) {
              // A stop: another agent presents this capability with its own key, and the report
              // carries its proof (a report without one only revokes the token: evidence rule).
              const thief = await op().agent(`crash-thief-${k}-${w}-${thieves++}`, 'mallory', ['fix-credentials']);
              const tt = await thief.openTask('fix-credentials', 'staging', 'thief');
              if (tt.status !== 200) continue;
              const shown = await thief.request(CONFIG, c.body.access_token);
              const r = await op().call('POST', '/v1/signals', { type: 'credential_substitution', token: c.body.access_token, dpop: shown.headers.get('DPoP'), htm: 'GET', htu: CONFIG });
              if (r.status === 202 && r.body.stopped_tasks?.includes(tt.body.task_id)) acked.stoppedTasks.add(tt.body.task_id);
            } else {
              const i = await consume(grant);
              if (i.active === true) {
                if (acked.grantsUsed.has(grant)) lost.grantsUsedTwice++;
                acked.grantsUsed.add(grant);
              }
            }
          } catch (e) {
            // the broker died mid-request: whatever was not acknowledged does not count
            if (process.env.CRASH_DEBUG) console.error(e);
          }
        }
      };
      const before = acked.issued.size;
      const workers = Array.from({ length: 6 }, (_, w) => worker(w));
      // Kill mid-load: once this round has acknowledged work (a slow machine may need a while
      // for its first token), then after a random moment.
      for (let waited = 0; acked.issued.size === before && waited < 60_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 600));
      await stint.kill();
      running = false;
      await Promise.all(workers);
      stint = await start();
      log(`kill ${k + 1}/${o.kills}: ${acked.issued.size} issued, ${acked.revokedTasks.size} revoked, ${acked.stoppedTasks.size} stopped, ${acked.grantsUsed.size} grants used`);

      // Nothing acknowledged may be lost.
      for (const id of acked.revokedTasks) if ((await op().task(id)).body.status !== 'revoked') lost.revocations++;
      for (const id of acked.stoppedTasks) if ((await op().task(id)).body.status !== 'stopped') lost.stops++;
      for (const g of acked.grantsUsed) if ((await consume(g)).active !== false) lost.grantsUsedTwice++;
      const verify = await op().call('GET', '/v1/audit/verify');
      if (verify.body.ok !== true) lost.chainBroken++;
      // Re-check only this round's revocations next time round.
      totals.revocations += acked.revokedTasks.size;
      totals.stops += acked.stoppedTasks.size;
      acked.revokedTasks.clear();
      acked.stoppedTasks.clear();
    }
    // Every acknowledged token is in the audit chain.
    const seen = new Set<string>();
    for (let after = 0; ; ) {
      const page = await op().call('GET', `/v1/audit?after=${after}&limit=10000`);
      const lines = String(page.body).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      for (const l of lines) if (l.type === 'capability.issued') seen.add(l.data.jti);
      if (lines.length < 10000) break;
      after = lines[lines.length - 1].seq;
    }
    for (const jti of acked.issued) if (!seen.has(jti)) lost.issuedMissingFromAudit++;
    return { kills: o.kills, issued: acked.issued.size, revocations: totals.revocations, stops: totals.stops, grants: acked.grantsUsed.size, lost };
  } finally {
    await stint.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kills = Number(process.env.KILLS ?? 20);
  const lines: string[] = [];
  const r = await crashTest({
    kills,
    log: (m) => {
      lines.push(m);
      console.error(m);
    },
  });
  const losses = Object.values(r.lost).reduce((a, b) => a + b, 0);
  const summary = `runs: ${r.kills}, kills: ${r.kills}, acknowledged: ${r.issued} tokens, ${r.revocations} task revocations, ${r.stops} stops, ${r.grants} single-use grants consumed; losses: ${losses}`;
  const report = `${JSON.stringify(r, null, 2)}\n\n${summary}`;
  console.log(report);
  // A full run is the record docs/benchmarks.md cites.
  if (kills >= 20) writeFileSync(fileURLToPath(new URL('../docs/crash-safety.log', import.meta.url)), `npm run crash on ${new Date().toISOString().slice(0, 10)}\n\n${lines.join('\n')}\n${report}\n`);
  process.exitCode = losses === 0 ? 0 : 1;
}
