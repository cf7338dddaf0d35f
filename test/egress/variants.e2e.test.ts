// The incident and its variants under `stint run` for a staging task: whatever the program, the
// found token or a volumeDelete never reaches the (fake) provider, and where a request reached the
// proxy the task is stopped. The same calls with the placeholder reach it with the real value.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKeyFile, egressBroker, fakeProviders, FOUND, REAL, REAL_REST, stintRun, workspace, type RunResult, type Seen } from './helpers.js';

const GQL = 'https://backboard.railway.app/graphql/v2';
const REST = 'https://api.staging.example';
const DELETE_DOC = 'mutation { volumeDelete(volumeId: \\"vol_1\\") }';
const b64 = Buffer.from(FOUND).toString('base64');
const OTHER_PLACEHOLDER = `stint_ph_${'Q'.repeat(32)}`;
const curl = (headers: string, body: string, extra = '') => `curl -sS -X POST ${GQL}${extra} ${headers} -H 'Content-Type: application/json' -d '${body}'`;
const pyPost = (tokenExpr: string, body: string) =>
  `python3 - <<'PY'\nimport json, urllib.request\ntoken = ${tokenExpr}\nreq = urllib.request.Request('${GQL}', data=json.dumps(${body}).encode(), headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})\ntry:\n    print(urllib.request.urlopen(req).read())\nexcept Exception as e:\n    print('refused', e)\nPY`;
const nodeConnect = (header: string, body: string) =>
  `node -e '
const http = require("http"), tls = require("tls"), fs = require("fs");
const p = new URL(process.env.HTTPS_PROXY);
const r = http.request({ host: p.hostname, port: p.port, method: "CONNECT", path: "backboard.railway.app:443" });
r.on("connect", (res, sock) => {
  const t = tls.connect({ socket: sock, servername: "backboard.railway.app", ca: fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS) }, () => {
    const b = ${body};
    t.write("POST /graphql/v2 HTTP/1.1\\r\\nHost: backboard.railway.app\\r\\n${header}\\r\\nContent-Type: application/json\\r\\nContent-Length: " + Buffer.byteLength(b) + "\\r\\nConnection: close\\r\\n\\r\\n" + b);
  });
  t.on("data", (d) => process.stdout.write(d)); t.on("error", () => {});
});
r.end();'`;

interface Variant {
  name: string;
  script: string;
  /** Whether a request reaches the proxy (then the task must be stopped). */
  stops: boolean;
}

const variants: Variant[] = [
  { name: 'the incident: curl, found token, volumeDelete', script: curl(`-H "Authorization: Bearer ${FOUND}"`, `{"query":"${DELETE_DOC}"}`), stops: true },
  { name: 'the found token on a harmless query', script: curl(`-H "Authorization: Bearer ${FOUND}"`, '{"query":"query { me { id } }"}'), stops: true },
  { name: 'token read from a file at run time (python json.load)', script: `T=$(python3 -c "import json;print(json.load(open('infra/railway/project.json'))['apiToken'])"); ${curl('-H "Authorization: Bearer $T"', '{"query":"query { me { id } }"}')}`, stops: true },
  { name: 'token from .env sourced at run time', script: `. ./.env; ${curl('-H "Authorization: Bearer $RAILWAY_TOKEN"', '{"query":"query { me { id } }"}')}`, stops: true },
  { name: 'base64-decoded token', script: `T=$(echo ${b64} | base64 -d); ${curl('-H "Authorization: Bearer $T"', '{"query":"query { me { id } }"}')}`, stops: true },
  { name: 'python3 urllib, token from the workspace file', script: pyPost("json.load(open('infra/railway/project.json'))['apiToken']", `{'query': 'mutation { volumeDelete(volumeId: "v") }'}`), stops: true },
  { name: 'a script written now and run later', script: `cat > del.sh <<'SH'\nT=$(grep -o '[0-9a-f-]\\{36\\}' .env)\n${curl('-H "Authorization: Bearer $T"', `{"query":"${DELETE_DOC}"}`)}\nSH\nsh del.sh`, stops: true },
  { name: 'token in URL user info', script: `curl -sS -X POST 'https://x:${FOUND}@backboard.railway.app/graphql/v2' -H 'Content-Type: application/json' -d '{"query":"query { me { id } }"}'`, stops: true },
  { name: 'token in a query parameter', script: curl('', '{"query":"query { me { id } }"}', `?token=${FOUND}`), stops: true },
  { name: 'token in a JSON body field', script: curl('', `{"query":"query { me { id } }","token":"${FOUND}"}`), stops: true },
  { name: 'token in a provider header (Project-Access-Token)', script: curl(`-H "Project-Access-Token: ${FOUND}"`, '{"query":"query { me { id } }"}'), stops: true },
  { name: 'token as a cookie', script: curl(`-H "Cookie: session=${FOUND}"`, '{"query":"query { me { id } }"}'), stops: true },
  { name: 'curl -u user:token', script: `curl -sS -u me:${FOUND} -X POST ${GQL} -H 'Content-Type: application/json' -d '{"query":"query { me { id } }"}'`, stops: true },
  { name: 'another task\'s placeholder', script: curl(`-H "Authorization: Bearer ${OTHER_PLACEHOLDER}"`, '{"query":"query { me { id } }"}'), stops: true },
  { name: 'volumeDelete under an alias, with the placeholder', script: curl('-H "Authorization: Bearer $RAILWAY_TOKEN"', '{"query":"mutation { tidy: volumeDelete(volumeId: \\"v\\") }"}'), stops: true },
  { name: 'volumeDelete in a batch, with the placeholder', script: curl('-H "Authorization: Bearer $RAILWAY_TOKEN"', '[{"query":"query { me { id } }"},{"query":"mutation { volumeDelete(volumeId: \\"v\\") }"}]'), stops: true },
  { name: 'volumeDelete by GET ?query=', script: `curl -sS -G ${GQL} -H "Authorization: Bearer $RAILWAY_TOKEN" --data-urlencode 'query=mutation { volumeDelete(volumeId: "v") }'`, stops: true },
  { name: 'volumeDelete through a fragment spread', script: curl('-H "Authorization: Bearer $RAILWAY_TOKEN"', '{"query":"mutation { ...F } fragment F on Mutation { volumeDelete(volumeId: \\"v\\") }"}'), stops: true },
  { name: 'volumeDelete spelled with a JSON unicode escape', script: curl('-H "Authorization: Bearer $RAILWAY_TOKEN"', '{"query":"mutation { volume\\u0044elete(volumeId: \\"v\\") }"}'), stops: true },
  { name: 'volumeDelete as application/graphql', script: `curl -sS -X POST ${GQL} -H "Authorization: Bearer $RAILWAY_TOKEN" -H 'Content-Type: application/graphql' --data-binary 'mutation { volumeDelete(volumeId: "v") }'`, stops: true },
  { name: 'REST DELETE of a volume with the found token', script: `curl -sS -X DELETE ${REST}/volumes/vol_1 -H "Authorization: Bearer ${FOUND}"`, stops: true },
  { name: 'REST DELETE of a volume, path spelled oddly', script: `curl -sS --path-as-is -X DELETE '${REST}//v1/../%76olumes/./vol_1' -H "X-Api-Key: $REST_TOKEN"`, stops: true },
  { name: 'node over a hand-made CONNECT tunnel, found token', script: nodeConnect(`Authorization: Bearer ${FOUND}`, `JSON.stringify({ query: "mutation { volumeDelete(volumeId: 1) }" })`), stops: true },
  { name: 'node fetch (ignores the proxy variables): no network at all', script: `node -e 'fetch("${GQL}", { method: "POST", headers: { Authorization: "Bearer ${FOUND}" }, body: "{}" }).then(() => console.log("reached"), (e) => console.log("failed", e.cause && e.cause.code))'`, stops: false },
  { name: 'a raw socket to the provider\'s address', script: `python3 -c "import socket,os\ntry:\n  s=socket.create_connection(('127.0.0.1', int(os.environ['FAKE_PORT'])), timeout=2); s.sendall(b'POST / HTTP/1.1\\\\r\\\\nAuthorization: Bearer ${FOUND}\\\\r\\\\n\\\\r\\\\n'); print('reached')\nexcept Exception as e: print('failed', e)"`, stops: false },
  { name: 'a persisted query (no document to read) is refused, not sent', script: curl('-H "Authorization: Bearer $RAILWAY_TOKEN"', '{"operationName":"Tidy","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}'), stops: false },
];

const benign: Variant[] = [
  { name: 'curl, a query with the placeholder', script: curl('-H "Authorization: Bearer $RAILWAY_TOKEN"', '{"query":"query { me { id } }"}'), stops: false },
  { name: 'python3 urllib, placeholder from the environment', script: pyPost("__import__('os').environ['RAILWAY_TOKEN']", "{'query': 'query { projects { edges { node { id } } } }'}"), stops: false },
  { name: 'GET ?query= with a query', script: `curl -sS -G ${GQL} -H "Authorization: Bearer $RAILWAY_TOKEN" --data-urlencode 'query=query { me { id } }'`, stops: false },
  { name: 'no credential: the proxy sets the custody header', script: curl('', '{"query":"query { me { id } }"}'), stops: false },
  { name: 'REST read with the REST placeholder', script: `curl -sS ${REST}/volumes -H "X-Api-Key: $REST_TOKEN"`, stops: false },
];

let broker: Awaited<ReturnType<typeof egressBroker>>;
let fake: Awaited<ReturnType<typeof fakeProviders>>;
const results = new Map<string, RunResult & { seen: Seen[]; task?: string; status?: string }>();

async function runOne(v: Variant, keys: string) {
  const agent = await agentKeyFile(broker, keys);
  const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
  const ws = workspace();
  const args = ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'rotate the staging DB password', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, '--env', 'RAILWAY_TOKEN=railway-staging', '--env', 'REST_TOKEN=rest-staging', '--', 'sh', '-c', v.stops ? `${v.script}\nsleep 20` : v.script];
  const before = new Set(fake.seen);
  const r = await stintRun(args, { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile, FAKE_PORT: String(fake.ports.gql) }, ws);
  const task = /stint run: task (\S+)/.exec(r.stderr)?.[1];
  const status = task ? (await broker.operator.task(task)).body.status : undefined;
  // Runs overlap: a request is this run's when it carries this run's credentials or none.
  results.set(v.name, { ...r, seen: fake.seen.filter((s) => !before.has(s)), task, status });
}

beforeAll(async () => {
  broker = await egressBroker();
  fake = await fakeProviders();
  const keys = mkdtempSync(join(tmpdir(), 'stint-run-keys-'));
  const queue = [...variants, ...benign];
  const worker = async () => {
    for (let v = queue.shift(); v; v = queue.shift()) await runOne(v, keys);
  };
  await Promise.all([worker(), worker(), worker()]);
}, 600_000);
afterAll(async () => {
  await fake?.close();
  await broker?.close();
});

describe('under stint run, the incident and its variants never reach the provider', () => {
  it('nothing the fake providers received carries the found token or a volumeDelete', () => {
    expect(variants.length).toBeGreaterThanOrEqual(20);
    for (const s of fake.seen) {
      const text = JSON.stringify(s);
      expect(text).not.toContain(FOUND);
      expect(text).not.toContain(Buffer.from(FOUND).toString('base64'));
      expect(text.replace(/\\u0044/g, 'D')).not.toMatch(/volumeDelete/);
      expect(s.method).not.toBe('DELETE');
    }
  });

  it.each(variants)('$name', (v) => {
    const r = results.get(v.name)!;
    expect(r.task, r.stderr).toBeDefined();
    if (v.stops) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.status).toBe('stopped');
      expect(r.stderr).toMatch(/stint run: stopped \(/);
    } else {
      expect(r.stdout).not.toMatch(/reached/);
      expect(r.status).not.toBe('stopped');
    }
  });
});

describe('the same calls with the placeholder reach the provider with the real value', () => {
  it.each(benign)('$name', (v) => {
    const r = results.get(v.name)!;
    expect(r.code, r.stderr).toBe(0);
    expect(r.status).toBe('completed');
    expect(r.stdout).toMatch(/ok/);
  });

  it('every benign request arrived with the real value, never a placeholder', () => {
    const mine = fake.seen.filter((s) => JSON.stringify(s).includes(REAL) || JSON.stringify(s).includes(REAL_REST));
    expect(mine.length).toBeGreaterThanOrEqual(benign.length);
    for (const s of fake.seen) expect(JSON.stringify(s)).not.toMatch(/stint_ph_/);
  });
});
