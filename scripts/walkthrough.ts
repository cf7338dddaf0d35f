// A walk through the contract against a running stint (`npm start` in another terminal):
// register an agent, open a task, get a capability, introspect it, be refused outside the
// ceiling, complete the task. Run with `npm run walkthrough`.
import { randomUUID, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const broker = process.env.STINT_URL ?? 'http://127.0.0.1:8787';
const admin = process.env.STINT_ADMIN_TOKEN ?? JSON.parse(readFileSync(process.env.STINT_SECRETS ?? './data/secrets.json', 'utf8')).STINT_ADMIN_TOKEN;
const meta = (await (await fetch(`${broker}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
const now = () => Math.floor(Date.now() / 1000);
const show = (step: string, body: unknown) => console.log(`\n## ${step}\n${JSON.stringify(body, null, 2)}`);

// The agent's identity key (registered) and its DPoP key (bound to the task).
const idKey = await generateKeyPair('EdDSA', { extractable: true });
const dpopKey = await generateKeyPair('EdDSA', { extractable: true });
const dpopJwk = await exportJWK(dpopKey.publicKey);

const reg = await fetch(`${broker}/v1/agents`, {
  method: 'POST',
  headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ name: 'walkthrough-agent', owner: 'alice', jwks: { keys: [await exportJWK(idKey.publicKey)] }, templates: ['fix-credentials'] }),
});
const agent = (await reg.json()) as { client_id: string };
show('POST /v1/agents', agent);

const clientAssertion = () =>
  new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(agent.client_id).setSubject(agent.client_id)
    .setAudience(meta.issuer!).setIssuedAt().setExpirationTime(now() + 60).setJti(randomUUID()).sign(idKey.privateKey);
const proof = (htm: string, htu: string, token?: string) =>
  new SignJWT({ htm, htu, jti: randomUUID(), iat: now(), ...(token ? { ath: createHash('sha256').update(token).digest('base64url') } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: dpopJwk }).sign(dpopKey.privateKey);
const token = async (params: Record<string, string>) => {
  const res = await fetch(meta.token_endpoint!, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: await proof('POST', meta.token_endpoint!) },
    body: new URLSearchParams({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await clientAssertion(), ...params }),
  });
  return (await res.json()) as Record<string, any>;
};

const task = await token({
  grant_type: 'client_credentials',
  authorization_details: JSON.stringify([{ type: 'stint_task', template: 'fix-credentials', environment: 'staging', purpose: 'rotate the staging DB password' }]),
});
show('open a task (client_credentials + stint_task)', { ...task, access_token: `${task.access_token.slice(0, 24)}…` });

const exchange = (scope: string) =>
  token({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: task.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope });
const cap = await exchange('config.write');
show('get a capability (token exchange, scope=config.write)', { ...cap, access_token: `${cap.access_token.slice(0, 24)}…` });

const intro = await fetch(meta.introspection_endpoint!, {
  method: 'POST',
  headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ token: cap.access_token }),
});
show('introspect it (RFC 7662)', await intro.json());

show('outside the ceiling (scope=db.read)', await exchange('db.read'));

const path = `/v1/tasks/${task.task_id}/complete`;
const done = await fetch(`${broker}${path}`, { method: 'POST', headers: { Authorization: `DPoP ${task.access_token}`, DPoP: await proof('POST', `${meta.issuer}${path}`, task.access_token) } });
show('complete the task', await done.json());
