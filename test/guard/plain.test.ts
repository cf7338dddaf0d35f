import { beforeAll, describe, expect, it } from 'vitest';
import { loadShellParser, parseTree, plainCommands, type Env, type SimpleCommand } from '../../src/guard/shell.js';
import { loadCorpus } from './corpus/workspace.js';

// The fast path (no grammar, no WebAssembly) must read exactly what the parser reads, or leave
// the command to the parser. Compared on every shell command of the corpus and on edge cases.
const env = (): Env => ({ vars: new Map(), readFile: () => undefined, cwd: '/w' });

/** The commands as words, assignments flattened, and which one each is piped from. */
function shape(cmds: SimpleCommand[]) {
  const top = cmds.filter((c) => c.depth === 0 && !c.captured);
  return top.flatMap((c): unknown[] => {
    const piped = c.pipedFrom ? top.indexOf(c.pipedFrom) : -1;
    if (c.argv.length === 0) return c.assigns.map((a) => ({ assign: [a.name, a.value.text, a.value.literal] }));
    return [{ argv: c.argv.map((w) => [w.text, w.literal]), assigns: c.assigns.map((a) => [a.name, a.value.text, a.value.literal]), piped: piped >= 0 ? top[piped]!.argv.map((w) => w.text).join(' ') : null }];
  });
}

const EDGES_PLAIN = [
  'git commit -m "fix: a; b && c | d"',
  `echo 'a"b' "it's"`,
  'A=1 B="x y" cmd --flag=1',
  'a|b',
  'a||b;c&&d',
  '# a comment\nls -la',
  'ls # trailing comment',
  `echo a"b"'c'd`,
  'cmd "" \'\'',
  "X='' ; Y=\"q r\"",
  'grep -rn "TODO" src | head -20 | wc -l',
  'psql -h db.staging.example -c "SELECT * FROM t WHERE a = \'x\'"',
  'npm test\nnpm run build\n',
];
const EDGES_PARSER = ['a & b', 'echo $(x)', 'echo "a$b"', 'echo a\\ b', 'ls *.ts', 'cat ~/.netrc', 'echo a>b', '{ a; }', 'if true; then x; fi', "echo 'unterminated", 'a | | b', 'x=1 bash -c y', 'echo a#b', 'echo `id`', 'a |& b', 'echo "a\\"b"', 'for f in a b; do echo $f; done', 'sudo sh -c "x"', 'eval x', '. ./env.sh', 'a &&', 'a |', '&& a'];

beforeAll(() => loadShellParser());

describe('the shell fast path', () => {
  it('reads every plain command of the corpus exactly as the parser does', () => {
    const cmds = new Set<string>(EDGES_PLAIN);
    for (const e of loadCorpus()) {
      const ev = e.event as any;
      const c = ev.tool_input?.command ?? ev.command;
      if (typeof c === 'string') cmds.add(c);
    }
    let plain = 0;
    for (const c of cmds) {
      const fast = plainCommands(c);
      if (!fast) continue;
      plain++;
      const tree = parseTree(c, env());
      expect(tree.uncertain, c).toBeUndefined();
      expect(shape(fast), c).toEqual(shape(tree.commands));
    }
    // most of an agent's commands need no grammar
    expect(plain).toBeGreaterThan(cmds.size / 2);
    for (const c of EDGES_PLAIN) expect(plainCommands(c), c).toBeDefined();
  });

  it('leaves to the parser whatever a shell could expand, redirect, glob or run nested', () => {
    for (const c of EDGES_PARSER) expect(plainCommands(c), c).toBeUndefined();
  });
});
