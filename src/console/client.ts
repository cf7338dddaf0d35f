// The approver console's one script (bundled with @simplewebauthn/browser into
// src/http/approval/console/client.generated.ts by `npm run console:bundle`). Pages carry no
// inline script: buttons name their action in data- attributes and this wires them.
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { safeNext } from './next.js';

const status = (text: string, bad = false) => {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = text;
  el.className = bad ? 'status bad' : 'status';
};

async function post(path: string, body: unknown): Promise<any> {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.detail ?? json.error_description ?? json.error ?? `HTTP ${res.status}`);
  return json;
}

async function enrol(token: string) {
  status('Creating a passkey…');
  const optionsJSON = await post('/console/enrol/options', { token });
  const response = await startRegistration({ optionsJSON });
  await post('/console/enrol/verify', { token, response });
  location.assign('/');
}

async function signIn() {
  status('Waiting for your passkey…');
  const optionsJSON = await post('/console/signin/options', {});
  const response = await startAuthentication({ optionsJSON });
  await post('/console/signin/verify', { response });
  location.assign(safeNext(new URLSearchParams(location.search).get('next'), location.origin));
}

async function decide(approval: string, decision: string) {
  status(`Sign to ${decision} with your passkey…`);
  const base = `/console/requests/${encodeURIComponent(approval)}/decision`;
  const optionsJSON = await post(`${base}/options`, { decision });
  const response = await startAuthentication({ optionsJSON });
  await post(base, { decision, response });
  location.reload();
}

/** Adding or retiring a key: confirmed first by a passkey the approver already has. */
async function changeKeys(op: string, kid: string) {
  status('Confirm with one of your passkeys…');
  const optionsJSON = await post('/console/keys/options', op === 'retire' ? { op, kid } : { op });
  const response = await startAuthentication({ optionsJSON });
  const { next } = await post(op === 'retire' ? `/console/keys/${encodeURIComponent(kid)}/retire` : '/console/keys/new', { response });
  location.assign(safeNext(next, location.origin));
}

document.addEventListener('click', (ev) => {
  const button = (ev.target as Element | null)?.closest?.('button[data-action]') as HTMLButtonElement | null;
  if (!button) return;
  ev.preventDefault();
  const { action, token, approval, decision, op, kid } = button.dataset;
  const run =
    action === 'enrol'
      ? enrol(token ?? '')
      : action === 'signin'
        ? signIn()
        : action === 'decide'
          ? decide(approval ?? '', decision ?? '')
          : action === 'keys'
            ? changeKeys(op ?? '', kid ?? '')
            : Promise.resolve();
  button.disabled = true;
  run.catch((e: Error) => status(e.message, true)).finally(() => (button.disabled = false));
});
