import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Policy } from '../core/policy.js';
import { compilePolicy, PolicyError } from './load.js';

/** Reads every `*.yaml`/`*.yml` file of a folder, in name order, and compiles them. */
export function loadPolicyDir(dir: string): Policy {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    throw new PolicyError(dir, 0, '', `cannot read the policy folder (${(e as Error).message})`);
  }
  if (names.length === 0) throw new PolicyError(dir, 0, '', 'no policy files (*.yaml) found');
  return compilePolicy(names.map((n) => ({ file: join(dir, n), text: readFileSync(join(dir, n), 'utf8') })));
}
