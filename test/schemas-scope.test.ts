import { describe, expect, it } from 'vitest';
import { parseScope, scopeSchema } from '../src/http/schemas.js';

describe('scope parsing on the token endpoint', () => {
  it('parseScope accepts and refuses exactly what scopeSchema does', () => {
    const cases = [
      'config.read',
      'config.read config.write',
      '  config.read   db.query ',
      '',
      ' ',
      'Not A Cap',
      'config.read\tx',
      '9lives',
      'a',
      `a${'b'.repeat(99)}`,
      `a${'b'.repeat(100)}`,
      Array.from({ length: 20 }, (_, i) => `c${i}`).join(' '),
      Array.from({ length: 21 }, (_, i) => `c${i}`).join(' '),
      `x ${' '.repeat(1999)}`,
      'config.read config.read',
      'config-read_2.x',
      'config.read\u202e',
    ];
    for (const c of cases) {
      const zod = scopeSchema.safeParse(c);
      let hand: string[] | undefined;
      try {
        hand = parseScope(c);
      } catch (e) {
        expect((e as { code: string }).code).toBe('invalid_scope');
      }
      expect(hand, JSON.stringify(c)).toEqual(zod.success ? zod.data : undefined);
    }
  });
});
