// Bad input under `stint run` gets a clear refusal and loses nothing: a body over the inspection
// cap (64 KiB by default, --body-cap to change it) at an inspected host is refused 403
// inspection_cap and never sent; malformed HTTP, to the proxy or inside a terminated tunnel,
// answers 400 problem+json.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentKeyFile, egressBroker, fakeProviders, REAL_REST, stintRun, workspace } from './helpers.js';

let broker: Awaited<ReturnType<typeof egressBroker>>;
let fake: Awaited<ReturnType<typeof fakeProviders>>;
let keys: string;
beforeAll(async () => {
  broker = await egressBroker();
  fake = await fakeProviders();
  keys = mkdtempSync(join(tmpdir(), 'stint-run-keys-'));
});
afterAll(async () => {
  await fake?.close();
  await broker?.close();
});

async function run(script: string, extra: string[] = []) {
  const agent = await agentKeyFile(broker, keys);
  const home = mkdtempSync(join(tmpdir(), 'stint-home-'));
  const args = ['--template', 'fix-credentials', '--environment', 'staging', '--purpose', 'p', '--client-id', agent.clientId, '--key', agent.file, '--url', broker.issuer, '--env', 'REST_TOKEN=rest-staging', ...extra, '--', 'sh', '-c', script];
  const before = new Set(fake.seen);
  const r = await stintRun(args, { STINT_HOME: home, STINT_EGRESS_RESOLVE: fake.resolve, STINT_EGRESS_UPSTREAM_CA: fake.caFile }, workspace());
  return { ...r, seen: fake.seen.filter((s) => !before.has(s)) };
}

const post = (bytes: number, extra = '') =>
  `head -c ${bytes} /dev/zero | tr '\\0' 'a' > body.txt; curl -sS ${extra} -X POST https://api.staging.example/v1/notes -H "X-Api-Key: $REST_TOKEN" -H 'Content-Type: text/plain' --data-binary @body.txt -w '\\nSTATUS=%{http_code} TYPE=%{content_type}\\n'`;

describe('the inspection cap under stint run', () => {
  it('a 70 000-byte body at an inspected host is refused 403 inspection_cap (default cap 64 KiB), nothing sent; chunked too; an 8 MB one too, answered, not reset', async () => {
    const r = await run(`${post(70_000)}\n${post(70_000, "-H 'Transfer-Encoding: chunked'")}\n${post(8_000_000)}`);
    expect(r.code, r.stderr).toBe(0);
    const statuses = [...r.stdout.matchAll(/STATUS=(\d+) TYPE=(\S*)/g)].map((m) => `${m[1]} ${m[2]}`);
    // each sender reads the refusal (the rest of its body is read and dropped), never a reset
    expect(statuses).toEqual(['403 application/problem+json', '403 application/problem+json', '403 application/problem+json']);
    expect(r.stdout).toMatch(/"rule":"inspection_cap"/);
    expect(r.stdout).toMatch(/65536 bytes/);
    expect(r.seen).toHaveLength(0);
  });

  it('--body-cap raises it: the same body is read, decided and sent with the real value', async () => {
    const r = await run(post(70_000), ['--body-cap', '131072']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/STATUS=200/);
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0]!.body.length).toBe(70_000);
    expect(r.seen[0]!.headers['x-api-key']).toBe(REAL_REST);
  });

  it('--body-cap that makes no sense is refused before anything starts', async () => {
    const r = await run('true', ['--body-cap', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--body-cap must be a whole number/);
  });
});

describe('malformed HTTP under stint run', () => {
  it('garbage to the proxy, and garbage inside a terminated TLS tunnel, each answer 400 problem+json; nothing is sent', async () => {
    const py = `python3 - <<'PY'
import os, socket, ssl
u = os.environ['HTTPS_PROXY'].split('//')[1]
host, port = u.split(':')
def talk(s, data):
    s.sendall(data)
    out = b''
    while True:
        try:
            c = s.recv(4096)
        except Exception:
            break
        if not c:
            break
        out += c
    return out.decode('latin-1')
s = socket.create_connection((host, int(port)), timeout=5)
print('PLAIN', talk(s, b'GARBAGE \\x00\\x01 NOT HTTP\\r\\n\\r\\n').split('\\r\\n')[0])
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b'CONNECT api.staging.example:443 HTTP/1.1\\r\\nHost: api.staging.example:443\\r\\n\\r\\n')
head = b''
while b'\\r\\n\\r\\n' not in head:
    head += s.recv(1)
ctx = ssl.create_default_context(cafile=os.environ['SSL_CERT_FILE'])
t = ctx.wrap_socket(s, server_hostname='api.staging.example')
out = talk(t, b'POST /v1/x HTTP/1.1\\r\\nHost: api.staging.example\\r\\nContent-Length: nope\\r\\n\\r\\n')
print('TUNNEL', out.split('\\r\\n')[0], 'problem' if 'application/problem+json' in out and '"status":400' in out else 'no-problem')
PY`;
    const r = await run(py);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PLAIN HTTP\/1\.1 400 Bad Request$/m);
    expect(r.stdout).toMatch(/^TUNNEL HTTP\/1\.1 400 Bad Request problem$/m);
    expect(r.seen).toHaveLength(0);
  });
});
