import { Hono } from 'hono';
import { verifyDpopProof } from '../../core/dpop.js';
import { StintError } from '../../core/errors.js';
import { resolveCapability } from '../../core/exchange.js';
import { requestApproval } from '../../core/request-approval.js';
import { agentFromForm, htuCandidates } from '../auth.js';
import type { BrokerEnv } from '../env.js';
import { readForm } from '../form.js';
import { capabilityRequest } from '../grants/token-exchange.js';

/**
 * CIBA backchannel authentication (OpenID CIBA §7), shaped for stint: the agent names its task
 * (`subject_token`, the task token), one destructive capability (`scope` or RAR) and, if it
 * likes, a `binding_message` the approvers see. The answer is an `auth_req_id` to poll at the
 * token endpoint.
 */
export const bcAuthorizeRoutes = new Hono<BrokerEnv>().post('/bc-authorize', async (c) => {
  const { core } = c.get('deps');
  const form = await readForm(c);
  if (!c.req.header('DPoP')) throw new StintError('invalid_dpop_proof', 'DPoP proof is missing: the grant will be bound to your task key');
  const agent = await agentFromForm(c, form);
  c.set('client', agent.id);
  c.get('deps').limits?.client(agent.id);
  const { jkt } = await verifyDpopProof({ proof: c.req.header('DPoP'), method: 'POST', urls: htuCandidates(c), now: core.clock.now(), replay: core.store.replay });
  const subjectToken = form.get('subject_token');
  if (!subjectToken) throw new StintError('invalid_request', 'subject_token (the task token) is required');
  const binding = form.get('binding_message');
  if (binding !== undefined && binding.length > 200) throw new StintError('invalid_binding_message', 'binding_message is limited to 200 characters');
  const { capabilities, locations } = capabilityRequest(form);
  const { task, resource, destructive } = await resolveCapability(core, agent, jkt, subjectToken, { capabilities, locations, resource: form.get('resource') });
  if (destructive.length === 0) throw new StintError('invalid_request', `${capabilities.join(', ')} needs no approval: use token exchange`);
  const opened = await requestApproval(core, agent, task, capabilities, resource, binding);
  return c.json(opened, 200, { 'Cache-Control': 'no-store' });
});
