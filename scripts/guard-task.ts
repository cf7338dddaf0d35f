// Shared by the guard's demo and benchmark: a task opened over HTTP, saved as the current task
// under a STINT_HOME the way `stint task open` saves it, so the hook process finds it.
import { exportJWK } from 'jose';
import type { AgentClient } from '../src/client/agent.js';
import { saveState } from '../src/guard/state.js';

export async function openCurrentTask(agent: AgentClient, o: { issuer: string; template: string; environment: string; purpose: string; home: string }) {
  const opened = await agent.openTask(o.template, o.environment, o.purpose);
  const dpop = await agent.dpopKey();
  saveState(
    {
      version: 1,
      url: o.issuer,
      issuer: o.issuer,
      client_id: agent.clientId,
      task_id: opened.body.task_id,
      template: o.template,
      environment: o.environment,
      purpose: o.purpose,
      task_token: opened.body.access_token,
      expires_at: Math.floor(Date.now() / 1000) + opened.body.expires_in,
      dpop: { alg: 'EdDSA', private_jwk: await exportJWK(dpop.privateKey), public_jwk: dpop.publicJwk, jkt: dpop.jkt },
    },
    o.home,
  );
  return opened;
}
