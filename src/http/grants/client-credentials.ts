import { StintError } from '../../core/errors.js';
import { openTask } from '../../core/tasks.js';
import { parseJsonParam, parseWith, taskDetailsSchema } from '../schemas.js';
import { NO_STORE, type Grant } from './types.js';

/** Open a task: `client_credentials` with one `stint_task` authorization detail (RFC 9396). */
export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  async handle(c, { form, agent, jkt }) {
    const raw = form.get('authorization_details');
    if (!raw) throw new StintError('invalid_authorization_details', 'authorization_details with one stint_task is required to open a task');
    const [detail] = parseWith(taskDetailsSchema, parseJsonParam(raw, 'invalid_authorization_details', 'authorization_details'), 'invalid_authorization_details', 'authorization_details');
    if (!detail) throw new StintError('invalid_authorization_details', 'authorization_details must hold one stint_task');
    const { token, claims, task, detail: echoed } = await openTask(c.get('deps').core, agent, detail, jkt);
    return c.json({ access_token: token, token_type: 'DPoP', expires_in: claims.exp - claims.iat, task_id: task.id, authorization_details: [echoed] }, 200, NO_STORE);
  },
};
