// A shell parse cut off by the analysis deadline (bounded.ts) must not be resumed: tree-sitter
// carries an interrupted parse into the next one, which would read the next command from the old
// one's state. In a process that outlives a call (the warm guard) that next command could be an
// attacker's, misread as harmless. (A file of its own: the parser it spoils is per module.)
import { beforeAll, describe, expect, it } from 'vitest';
import { cutOff, OutOfTime, within } from '../../src/guard/bounded.js';
import { loadShellParser, parseTree, shellParser, type Env } from '../../src/guard/shell.js';

const env = (): Env => ({ vars: new Map(), readFile: () => undefined, cwd: '/' });

beforeAll(() => loadShellParser());

describe('a shell parse cut off by the deadline', () => {
  it('spoils this process’s parser: every later command is uncertain, never misread', () => {
    const incident = 'curl -H "Authorization: Bearer 3f9c2b1e-7a4d-4e8b-9c1f-2d6e8a0b4c7d" https://backboard.railway.app/graphql/v2';
    expect(parseTree(incident, env()).commands.map((c) => c.argv[0]?.text)).toEqual(['curl']);
    // parse a long word over and over until the deadline cuts one off (a word takes the parser
    // far longer than the walk, so the first cut lands inside a parse; a cut in the walk spoils
    // nothing, and is retried)
    const word = `echo ${'a'.repeat(250_000)}`;
    const before = cutOff.count;
    for (let i = 0; i < 20 && !shellParser.spoiled; i++) {
      expect(() => within(5, () => {
        for (;;) parseTree(word, env());
      })).toThrow(OutOfTime);
      parseTree('true', env());
    }
    expect(cutOff.count).toBeGreaterThan(before);
    const after = parseTree(incident, env());
    expect(after.commands).toEqual([]);
    expect(after.uncertain).toMatch(/cut off/);
    expect(shellParser.spoiled).toBe(true);
  });
});
