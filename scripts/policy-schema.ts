// Writes policies/schema.json from the zod schema in src/policy/schema.ts.
import { writeFileSync } from 'node:fs';
import { policyJsonSchema } from '../src/policy/schema.js';

writeFileSync(new URL('../policies/schema.json', import.meta.url), `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log('wrote policies/schema.json');
