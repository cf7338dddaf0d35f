import { fileURLToPath } from 'node:url';
import { loadPolicyDir } from '../../src/policy/node.js';

export const POLICIES_DIR = fileURLToPath(new URL('../../policies', import.meta.url));
export const defaultPolicy = () => loadPolicyDir(POLICIES_DIR);
