// Reading a shell command with a real parser (tree-sitter-bash, in WebAssembly): the simple
// commands it runs, in order, with their words evaluated as far as they can be without running
// anything (quotes, escapes, $'…' decoding, variables assigned earlier or sourced from a file,
// `$(cat file)`), their redirections and here-documents. What cannot be told is marked, so the
// caller can refuse it rather than guess.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Node as TSNode, Parser as TSParser } from 'web-tree-sitter';
import { NeedParser } from './need.js';

export interface Word {
  text: string;
  /** Every part was known (no unresolved expansion or command substitution). */
  literal: boolean;
  /** Variables the word referred to. */
  refs: string[];
  /** Files whose content the word pulled in (`$(cat f)`, `$(< f)`). */
  files: string[];
}

export interface SimpleCommand {
  argv: Word[];
  assigns: { name: string; value: Word }[];
  /** `< file` and friends: input files. */
  inputs: Word[];
  /** `> file`: output files. */
  outputs: Word[];
  /** Here-document or here-string text fed to the command's stdin. */
  stdin?: Word;
  /** The command before this one in a pipeline (its output is this one's stdin). */
  pipedFrom?: SimpleCommand;
  /** Nesting depth (`sh -c` inside `bash -c` …). */
  depth: number;
  /** The directory it runs in, when an earlier `cd` changed it. */
  cwd?: string;
  /** The host it runs on, when `ssh host '…'` runs it there (its `localhost` is that host). */
  remote?: string;
  /** Its output is captured into a word (`$(…)`, `<(…)`): it feeds the call, not the agent's eyes. */
  captured?: boolean;
}

export interface ParsedShell {
  commands: SimpleCommand[];
  /** Why the command could not be read in full (a syntax error, an unresolvable command name, …). */
  uncertain?: string;
}

let parser: TSParser | undefined;
let loading: Promise<TSParser> | undefined;
let parsing = false;

/** `spoiled`: a parse was cut off; this process's parser is not to be used again. */
export const shellParser = { spoiled: false };

/** Set by the hook's own process (main.ts): it lives for one tool call. */
export const shortLived = { process: false };

/** Loads the parser once per process (WebAssembly compile: the guard's main start-up cost). */
export function loadShellParser(): Promise<TSParser> {
  return (loading ??= (async () => {
    if (shortLived.process) {
      // The grammar is 1.3 MB of WebAssembly. Baseline-compile it only: V8's dynamic tiering
      // recompiles hot functions with TurboFan on background threads, and the process cannot
      // exit until they finish (3-5 s measured here, after a 0.1 s parse). One parse per process
      // gains nothing from optimised code. (node:v8 is loaded only here: most calls need no grammar.)
      const { setFlagsFromString } = await import('node:v8');
      setFlagsFromString('--liftoff-only');
      setFlagsFromString('--no-wasm-dynamic-tiering');
    }
    const { Parser, Language } = await import('web-tree-sitter');
    // bundled (dist/guard/): the WebAssembly files sit beside the bundle; from source: in node_modules
    const here = new URL('./web-tree-sitter.wasm', import.meta.url);
    const bundled = here.protocol === 'file:' && existsSync(fileURLToPath(here));
    const require = createRequire(import.meta.url);
    const runtimeWasm = bundled ? fileURLToPath(here) : require.resolve('web-tree-sitter/web-tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtimeWasm });
    const bashWasm = bundled ? fileURLToPath(new URL('./tree-sitter-bash.wasm', import.meta.url)) : require.resolve('tree-sitter-bash/tree-sitter-bash.wasm');
    const lang = await Language.load(bashWasm);
    const p = new Parser();
    p.setLanguage(lang);
    parser = p;
    return p;
  })());
}

export interface Env {
  /** Variables known at this point (assignments, `export`, `source`d files, the process environment). */
  vars: Map<string, string>;
  /** Reads a file the command pulls in (bounded); undefined if it cannot be read. */
  readFile(path: string): string | undefined;
  /** Where relative paths start. */
  cwd?: string;
}

const MAX_DEPTH = 4;
const MAX_COMMANDS = 200;

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', 'select', 'time', 'coproc', 'in']);

/**
 * Commands the grammar is not needed for: words of plain characters (letters, digits,
 * `_@%+=:,./-`), `'…'` and `"…"` strings without `$`, `` ` `` or `\\`, joined by `&&`, `||`,
 * `;`, `|` or newlines, with `#` comments. Such a script means exactly its words to any POSIX
 * shell: no expansion, globbing, escape or redirection is possible in it. Most of an agent's
 * commands are such (`git commit -m "…"`, `grep -rn "TODO" src | head`, `psql -c "SELECT …"`),
 * and are read without compiling the grammar's WebAssembly; anything else, and any command that
 * runs a shell, `eval` or `source`, goes to the real parser.
 */
export function plainCommands(script: string): SimpleCommand[] | undefined {
  if (script.length > 4096) return undefined;
  type Tok = { op?: string; word?: Word; bare?: boolean; raw?: string };
  const toks: Tok[] = [];
  const n = script.length;
  let i = 0;
  while (i < n) {
    const c = script[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\n' || c === ';') {
      toks.push({ op: ';' });
      i++;
      continue;
    }
    if (c === '&' || c === '|') {
      const two = script.slice(i, i + 2);
      if (two === '&&' || two === '||') {
        toks.push({ op: two });
        i += 2;
      } else if (c === '|' && script[i + 1] !== '&') {
        toks.push({ op: '|' });
        i++;
      } else return undefined; // `&` (background), `|&`
      continue;
    }
    if (c === '#') {
      // a word that begins with # starts a comment, to the end of the line
      const e = script.indexOf('\n', i);
      i = e < 0 ? n : e;
      continue;
    }
    // one word: plain characters and quoted strings, concatenated
    let text = '';
    let bare = true;
    const from = i;
    while (i < n) {
      const d = script[i]!;
      if (d === "'") {
        const e = script.indexOf("'", i + 1);
        if (e < 0) return undefined;
        text += script.slice(i + 1, e);
        i = e + 1;
        bare = false;
      } else if (d === '"') {
        const e = script.indexOf('"', i + 1);
        if (e < 0) return undefined;
        const inner = script.slice(i + 1, e);
        if (/[$`\\]/.test(inner)) return undefined;
        text += inner;
        i = e + 1;
        bare = false;
      } else if (/[A-Za-z0-9_@%+=:,./-]/.test(d)) {
        text += d;
        i++;
      } else if (d === ' ' || d === '\t' || d === '\n' || d === ';' || d === '&' || d === '|') break;
      else return undefined; // $ ` \ < > ( ) { } * ? [ ] ~ ! # inside a word: the parser
    }
    toks.push({ word: { text, literal: true, refs: [], files: [] }, bare, raw: script.slice(from, i) });
  }
  const out: SimpleCommand[] = [];
  let cur: Tok[] = [];
  let pipedFrom: SimpleCommand | undefined;
  const flush = (): boolean => {
    if (cur.length === 0) return false;
    const assigns: SimpleCommand['assigns'] = [];
    let k = 0;
    // NAME=value before the command: the name and `=` unquoted
    while (k < cur.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(cur[k]!.raw!)) {
      const t = cur[k]!.word!.text;
      const eq = t.indexOf('=');
      assigns.push({ name: t.slice(0, eq), value: { text: t.slice(eq + 1), literal: true, refs: [], files: [] } });
      k++;
    }
    const argv = cur.slice(k).map((t) => t.word!);
    const first = cur[k];
    // reserved words and declarations (`export A=1`, `declare`, `local`) are the grammar's
    if (first?.bare && (RESERVED.has(first.word!.text) || /^(export|declare|local|readonly|typeset|unset|alias)$/.test(first.word!.text))) return true;
    const base = stripWrappers(argv)[0]?.text.split('/').pop();
    if (base && (SHELLS.has(base) || base === 'eval' || base === 'source' || base === '.' || base === 'exec')) return true;
    const cmd: SimpleCommand = { argv, assigns, inputs: [], outputs: [], depth: 0, ...(pipedFrom ? { pipedFrom } : {}) };
    out.push(cmd);
    pipedFrom = cmd;
    cur = [];
    return false;
  };
  let last: string | undefined;
  for (const t of toks) {
    if (t.op) {
      // an operator with no command before it (`&& x`, `a | | b`): the parser says what it is
      if (cur.length === 0 && t.op !== ';') return undefined;
      if (flush()) return undefined;
      if (t.op !== '|') pipedFrom = undefined;
      last = t.op;
    } else {
      cur.push(t);
      last = undefined;
    }
  }
  // `a &&`, `a |` are incomplete: the parser says so
  if (last === '&&' || last === '||' || last === '|') return undefined;
  if (flush()) return undefined;
  return out.length ? out : undefined;
}

/** Parses `script` into its simple commands. Never throws on bad input: it marks it uncertain. */
export function parseShell(script: string, env: Env, depth = 0): ParsedShell {
  if (depth > MAX_DEPTH) return { commands: [], uncertain: 'shell nesting deeper than 4' };
  const plain = plainCommands(script);
  if (plain) {
    // as the parser's walker does: assignments persist, `cd` moves, scripts run by name are followed
    const commands: SimpleCommand[] = [];
    let uncertain: string | undefined;
    for (const c of plain) {
      c.depth = depth;
      if (env.cwd) c.cwd = env.cwd;
      commands.push(c);
      if (c.argv.length === 0) for (const a of c.assigns) env.vars.set(a.name, a.value.text);
      if (c.argv[0]?.text === 'cd' && c.argv[1]) env.cwd = isAbsolute(c.argv[1].text) ? c.argv[1].text : resolve(env.cwd ?? '.', c.argv[1].text);
      const words = stripWrappers(c.argv);
      if (words.length === 0) continue;
      const remote = sshCommand(words);
      if (remote) {
        const inner = parseShell(remote.script, { ...env, vars: new Map(), cwd: undefined }, depth + 1);
        uncertain ??= inner.uncertain;
        for (const x of inner.commands) x.remote ??= remote.host;
        commands.push(...inner.commands);
        continue;
      }
      const run = scriptRunOf(words, words[0]!.text.split('/').pop()!, env);
      if (!run) continue;
      const inner = parseShell(run.text, env, depth + 1);
      uncertain ??= inner.uncertain;
      commands.push(...inner.commands);
    }
    return { commands, ...(uncertain ? { uncertain } : {}) };
  }
  return parseTree(script, env, depth);
}

/** Parses with the grammar (the fast path's twin; tests compare the two). */
export function parseTree(script: string, env: Env, depth = 0): ParsedShell {
  if (!parser) throw new NeedParser('shell');
  if (script.length > 256 * 1024) return { commands: [], uncertain: 'a command longer than 256 KiB' };
  // A parse cut off by the analysis deadline (bounded.ts) never returns here: tree-sitter would
  // resume it on the next parse, reading the next command from the old one's state. This parser
  // then reads nothing more (the warm guard, which outlives a call, leaves: serve.ts).
  if (parsing || shellParser.spoiled) {
    shellParser.spoiled = true;
    return { commands: [], uncertain: 'the shell parser was cut off by an earlier deadline' };
  }
  parsing = true;
  parser.reset();
  const tree = parser.parse(script);
  parsing = false;
  if (!tree) return { commands: [], uncertain: 'the shell parser gave no tree' };
  try {
    const root = tree.rootNode;
    if (root.hasError) return { commands: [], uncertain: `a shell syntax error near "${snippet(firstError(root)?.text ?? '')}"` };
    const w = new Walker(env, depth, script);
    w.visit(root);
    return { commands: w.commands, uncertain: w.uncertain };
  } finally {
    tree.delete();
  }
}

const snippet = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);

function firstError(n: TSNode): TSNode | undefined {
  if (n.type === 'ERROR' || n.isMissing) return n;
  for (const c of n.children) {
    if (c && (c.hasError || c.type === 'ERROR' || c.isMissing)) return firstError(c) ?? c;
  }
  return undefined;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'busybox']);
const WRAPPERS = new Set(['sudo', 'doas', 'nohup', 'time', 'command', 'builtin', 'exec', 'nice', 'stdbuf', 'ionice', 'chronic', 'unbuffer']);

function decodeAnsiC(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/g, (_, e: string) => {
    const k = e[0];
    if (k === 'x' || k === 'u' || k === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16) || 0);
    if (/[0-7]/.test(k!)) return String.fromCharCode(parseInt(e, 8));
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
    return map[k!] ?? e;
  });
}

class Walker {
  commands: SimpleCommand[] = [];
  uncertain: string | undefined;
  private captured = 0;
  constructor(
    private env: Env,
    private depth: number,
    private src: string,
  ) {}

  private doubt(why: string) {
    this.uncertain ??= why;
  }

  visit(n: TSNode, pipedFrom?: SimpleCommand, extra?: { inputs: Word[]; outputs: Word[]; stdin?: Word }): SimpleCommand | undefined {
    if (this.commands.length > MAX_COMMANDS) {
      this.doubt('more than 200 commands');
      return undefined;
    }
    switch (n.type) {
      case 'comment':
        return undefined;
      case 'command':
        return this.command(n, pipedFrom, extra);
      case 'variable_assignment':
        this.assign(n);
        return undefined;
      case 'declaration_command': {
        // export/declare/local/readonly A=1: assignments that persist
        for (const c of n.namedChildren) if (c?.type === 'variable_assignment') this.assign(c);
        return undefined;
      }
      case 'redirected_statement': {
        const redir = { inputs: [] as Word[], outputs: [] as Word[], stdin: undefined as Word | undefined };
        for (const r of n.childrenForFieldName('redirect')) if (r) this.redirect(r, redir);
        const body = n.childForFieldName('body');
        if (!body) {
          // a bare redirect (`> file`)
          return undefined;
        }
        return this.visit(body, pipedFrom, redir);
      }
      case 'pipeline': {
        let prev: SimpleCommand | undefined = pipedFrom;
        const parts = n.namedChildren.filter((c): c is TSNode => !!c && c.type !== 'comment');
        parts.forEach((c, i) => {
          prev = this.visit(c, prev, i === 0 ? extra : undefined);
        });
        return prev;
      }
      case 'function_definition': {
        const body = n.childForFieldName('body');
        if (body) this.visit(body);
        return undefined;
      }
      case 'command_substitution':
      case 'process_substitution': {
        this.captured++;
        for (const c of n.namedChildren) if (c) this.visit(c);
        this.captured--;
        return undefined;
      }
      default: {
        // lists, subshells, groups, if/for/while/case: every command inside may run
        let last: SimpleCommand | undefined;
        for (const c of n.namedChildren) {
          if (!c) continue;
          if (/^(variable_name|word|number|string|raw_string|concatenation|simple_expansion|expansion|file_descriptor|heredoc_body|heredoc_start|heredoc_end)$/.test(c.type) && n.type !== 'program') {
            this.word(c); // evaluate for nested command substitutions
            continue;
          }
          last = this.visit(c, undefined, extra);
        }
        return last;
      }
    }
  }

  private assign(n: TSNode) {
    const name = n.childForFieldName('name')?.text ?? '';
    const valueNode = n.childForFieldName('value');
    const value = valueNode ? this.word(valueNode) : { text: '', literal: true, refs: [], files: [] };
    this.commands.push({ argv: [], assigns: [{ name, value }], inputs: [], outputs: [], depth: this.depth });
    if (value.literal || value.files.length) this.env.vars.set(name, value.text);
    else this.env.vars.delete(name);
  }

  private redirect(r: TSNode, into: { inputs: Word[]; outputs: Word[]; stdin?: Word }) {
    if (r.type === 'file_redirect') {
      const dest = r.childForFieldName('destination');
      if (!dest) return;
      const op = r.children.find((c) => c && /^[<>&|]+$/.test(c.type))?.type ?? '>';
      const w = this.word(dest);
      if (op.startsWith('<') && op !== '<&') into.inputs.push(w);
      else if (dest.type !== 'number' && !/^&?\d*-?$/.test(w.text)) into.outputs.push(w);
    } else if (r.type === 'heredoc_redirect') {
      const body = r.namedChildren.find((c) => c?.type === 'heredoc_body');
      const start = r.namedChildren.find((c) => c?.type === 'heredoc_start')?.text ?? '';
      const quoted = /['"\\]/.test(start);
      if (body) into.stdin = quoted ? { text: body.text, literal: true, refs: [], files: [] } : this.word(body);
      // the command the here-doc belongs to may follow in a pipeline inside the redirect node
      for (const c of r.namedChildren) if (c && c.type !== 'heredoc_body' && c.type !== 'heredoc_start' && c.type !== 'heredoc_end' && c.type !== 'file_redirect') this.visit(c);
    } else if (r.type === 'herestring_redirect') {
      const c = r.namedChildren[0];
      if (c) into.stdin = this.word(c);
    }
  }

  private command(n: TSNode, pipedFrom: SimpleCommand | undefined, extra?: { inputs: Word[]; outputs: Word[]; stdin?: Word }): SimpleCommand | undefined {
    const assigns: SimpleCommand['assigns'] = [];
    const argv: Word[] = [];
    const redir = { inputs: [...(extra?.inputs ?? [])], outputs: [...(extra?.outputs ?? [])], stdin: extra?.stdin };
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === 'variable_assignment') {
        const name = c.childForFieldName('name')?.text ?? '';
        const v = c.childForFieldName('value');
        assigns.push({ name, value: v ? this.word(v) : { text: '', literal: true, refs: [], files: [] } });
      } else if (c.type === 'command_name') {
        const inner = c.namedChildren[0];
        argv.push(inner ? this.word(inner) : { text: c.text, literal: true, refs: [], files: [] });
      } else if (/redirect$/.test(c.type)) this.redirect(c, redir);
      else argv.push(this.word(c));
    }
    // prefix assignments are visible to this command only; keep them for resolution of its words
    const cmd: SimpleCommand = { argv, assigns, inputs: redir.inputs, outputs: redir.outputs, stdin: redir.stdin, pipedFrom, depth: this.depth, ...(this.captured > 0 ? { captured: true } : {}), ...(this.env.cwd ? { cwd: this.env.cwd } : {}) };
    this.commands.push(cmd);
    // `cd dir`: later relative paths (scripts run, package.json, files read) start there
    if (argv[0]?.text === 'cd' && argv[1]?.literal && !this.captured) this.env.cwd = isAbsolute(argv[1].text) ? argv[1].text : resolve(this.env.cwd ?? '.', argv[1].text);
    this.nested(cmd);
    return cmd;
  }

  /** `sh -c '…'`, `eval …`, `source file`, `… | sh`, wrappers such as `sudo`, `env`, `xargs`. */
  private nested(cmd: SimpleCommand) {
    const words = stripWrappers(cmd.argv);
    const name = words[0];
    if (!name) return;
    if (!name.literal) {
      this.doubt(`a command name that is not known before it runs (${snippet(name.text)})`);
      return;
    }
    const base = name.text.split('/').pop()!;
    // `ssh host '…'`: the command runs on that host, read as shell
    const remote = sshCommand(words);
    if (remote) {
      const inner = parseShell(remote.script, { ...this.env, vars: new Map(), cwd: undefined }, this.depth + 1);
      if (inner.uncertain) this.doubt(inner.uncertain);
      for (const x of inner.commands) x.remote ??= remote.host;
      this.commands.push(...inner.commands);
      return;
    }
    // what a command runs by name: package scripts, make targets, executables in the workspace
    const run = this.scriptRun(words, base);
    if (run !== undefined) {
      if (run === null) return;
      const inner = parseShell(run.text, this.env, this.depth + 1);
      if (inner.uncertain) this.doubt(inner.uncertain);
      this.commands.push(...inner.commands);
      return;
    }
    if (SHELLS.has(base) || base === 'eval' || base === 'source' || base === '.') {
      let script: Word | undefined;
      if (base === 'eval') script = { text: words.slice(1).map((w) => w.text).join(' '), literal: words.slice(1).every((w) => w.literal), refs: [], files: [] };
      else if (base === 'source' || base === '.') {
        const file = words[1];
        if (!file?.literal) return this.doubt('source of a file that is not known before it runs');
        const text = this.env.readFile(file.text);
        if (text === undefined) return;
        // a sourced file: its variables become known (they may be credentials)
        for (const m of text.matchAll(/^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)) {
          let v = m[2]!.trim();
          if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
          this.env.vars.set(m[1]!, v);
          this.commands.push({ argv: [], assigns: [{ name: m[1]!, value: { text: v, literal: true, refs: [], files: [file.text] } }], inputs: [], outputs: [], depth: this.depth });
        }
        return;
      } else {
        const ci = words.findIndex((w, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(w.text));
        if (ci > 0) script = words[ci + 1];
        else if (words.length > 1 && !words[1]!.text.startsWith('-')) {
          // `bash script.sh`: the script file runs
          const text = words[1]!.literal ? this.env.readFile(words[1]!.text) : undefined;
          if (text === undefined) return this.doubt(`a script that cannot be read (${snippet(words[1]!.text)})`);
          script = { text, literal: true, refs: [], files: [] };
        } else if (cmd.stdin) script = cmd.stdin;
        else if (cmd.pipedFrom) script = scriptFromPipe(cmd.pipedFrom, this.env);
        else if (cmd.inputs[0]?.literal) {
          const text = this.env.readFile(cmd.inputs[0].text);
          script = text === undefined ? undefined : { text, literal: true, refs: [], files: [] };
        } else return; // an interactive shell
      }
      if (!script || !script.literal) return this.doubt(`a shell runs a script that is not known before it runs`);
      const inner = parseShell(script.text, this.env, this.depth + 1);
      if (inner.uncertain) this.doubt(inner.uncertain);
      this.commands.push(...inner.commands);
    }
  }

  private scriptRun(words: Word[], base: string): Word | null | undefined {
    return scriptRunOf(words, base, this.env);
  }

  /** Evaluates one word as the shell would, as far as it can be done without running anything. */
  word(n: TSNode): Word {
    const out: Word = { text: '', literal: true, refs: [], files: [] };
    const add = (w: Word) => {
      out.text += w.text;
      out.literal &&= w.literal;
      out.refs.push(...w.refs);
      out.files.push(...w.files);
    };
    switch (n.type) {
      case 'word':
      case 'number':
        out.text = n.text.replace(/\\(.)/gs, '$1').replace(/\\\n/g, '');
        if (/^~/.test(out.text)) out.text = out.text.replace(/^~(?=\/|$)/, this.env.vars.get('HOME') ?? process.env.HOME ?? '~');
        return out;
      case 'raw_string':
        out.text = n.text.slice(1, -1);
        return out;
      case 'ansi_c_string':
        out.text = decodeAnsiC(n.text.slice(2, -1));
        return out;
      case 'string':
      case 'translated_string':
      case 'heredoc_body': {
        if (n.namedChildren.length === 0) {
          out.text = n.type === 'heredoc_body' ? n.text : n.text.replace(/^\$?"|"$/g, '').replace(/\\([$`"\\\n])/g, '$1');
          return out;
        }
        // text between the named children is literal content
        let pos = n.startIndex + (n.type === 'string' ? 1 : n.type === 'translated_string' ? 2 : 0);
        const end = n.endIndex - (n.type === 'heredoc_body' ? 0 : 1);
        const src = this.src;
        const lit = (s: string) => (n.type === 'heredoc_body' ? s.replace(/\\([$`\\\n])/g, '$1') : s.replace(/\\([$`"\\\n])/g, '$1'));
        for (const c of n.namedChildren) {
          if (!c) continue;
          if (c.startIndex > pos) add({ text: lit(sliceBytes(src, pos, c.startIndex)), literal: true, refs: [], files: [] });
          if (c.type === 'string_content' || c.type === 'heredoc_content') add({ text: lit(c.text), literal: true, refs: [], files: [] });
          else if (c.type === 'heredoc_end') break;
          else add(this.word(c));
          pos = c.endIndex;
        }
        if (end > pos) add({ text: lit(sliceBytes(src, pos, end)), literal: true, refs: [], files: [] });
        return out;
      }
      case 'string_content':
        out.text = n.text;
        return out;
      case 'concatenation':
        for (const c of n.children) if (c) add(c.isNamed ? this.word(c) : { text: c.text, literal: true, refs: [], files: [] });
        return out;
      case 'simple_expansion':
      case 'expansion': {
        const name = n.namedChildren.find((c) => c?.type === 'variable_name' || c?.type === 'special_variable_name')?.text;
        const complex = n.type === 'expansion' && n.namedChildren.length > 1;
        if (name) out.refs.push(name);
        // ${X:-default}, ${X-default}, ${X:=default}: the variable's value, or the default written here
        const op = n.type === 'expansion' ? /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?)[-=]/.exec(n.text) : null;
        if (op && name) {
          const set = this.env.vars.get(name);
          if (set !== undefined && (op[1] !== ':' || set !== '')) return { text: set, literal: true, refs: [name], files: [] };
          const parts = n.namedChildren.filter((c): c is TSNode => !!c && c.type !== 'variable_name').map((c) => this.word(c));
          return { text: parts.map((p) => p.text).join(''), literal: parts.every((p) => p.literal), refs: [name, ...parts.flatMap((p) => p.refs)], files: parts.flatMap((p) => p.files) };
        }
        const v = name !== undefined && !complex ? this.env.vars.get(name) : undefined;
        if (v === undefined) {
          out.literal = false;
          out.text = `\${${name ?? '?'}}`;
          // nested words of ${X:-$(cmd)} may run commands
          for (const c of n.namedChildren) if (c && c.type !== 'variable_name') this.word(c);
        } else out.text = v;
        return out;
      }
      case 'command_substitution': {
        const inner = n.namedChildren.filter((c): c is TSNode => !!c);
        // $(cat file) / $(< file): the file's content, read
        const first = inner[0];
        if (inner.length === 1 && first) {
          const file = catTarget(first, this);
          if (file?.literal) {
            const text = this.env.readFile(file.text);
            if (text !== undefined) {
              this.captured++;
              this.visit(first);
              this.captured--;
              return { text: text.trim(), literal: true, refs: file.refs, files: [file.text] };
            }
          }
        }
        this.captured++;
        const before = this.commands.length;
        for (const c of inner) this.visit(c);
        this.captured--;
        // $(stint token <capability>): a capability token of this very task, the agent's own
        const ran = this.commands.slice(before).filter((c) => c.argv.length);
        const words = ran.length === 1 ? ran[0]!.argv.map((w) => (w.literal ? w.text : '\0')) : [];
        const at = words[0] === 'npx' ? words.findIndex((w, i) => i > 0 && !w.startsWith('-')) : 0;
        if (at >= 0 && /(^|\/)stint$/.test(words[at] ?? '') && words[at + 1] === 'token' && words.length <= at + 5) return { text: '<stint token of this task>', literal: true, refs: [], files: [] };
        return { text: '$(…)', literal: false, refs: [], files: [] };
      }
      case 'process_substitution':
        this.captured++;
        for (const c of n.namedChildren) if (c) this.visit(c);
        this.captured--;
        return { text: '/dev/fd/63', literal: false, refs: [], files: [] };
      case 'arithmetic_expansion':
        return { text: n.text, literal: false, refs: [], files: [] };
      default:
        return { text: n.text, literal: n.namedChildren.length === 0, refs: [], files: [] };
    }
  }
}

/**
 * The shell text a command runs by name, when it can be read: `npm|pnpm|yarn|bun run x`
 * (package.json), `make x` (the Makefile's recipe), `./x.sh` (a shell script in the workspace).
 * undefined: not such a command; null: nothing to follow (an unknown target, a binary).
 */
export function scriptRunOf(words: Word[], base: string, env: Env): Word | null | undefined {
  const w = words.map((x) => x.text);
  const lit = (text: string): Word => ({ text, literal: true, refs: [], files: [] });
  if (/^(npm|pnpm|yarn|bun)$/.test(base)) {
    const i = w[1] === 'run' || w[1] === 'run-script' ? 2 : base === 'yarn' || base === 'pnpm' ? 1 : w[1] === 'test' || w[1] === 'start' ? 1 : -1;
    const name = i > 0 ? (w[i] === 'test' || w[i] === 'start' ? w[i] : w[i]) : undefined;
    if (!name || name.startsWith('-')) return undefined;
    const pkg = env.readFile('package.json');
    if (pkg === undefined) return null;
    try {
      const scripts = (JSON.parse(pkg) as { scripts?: Record<string, string> }).scripts ?? {};
      const body = [scripts[`pre${name}`], scripts[name], scripts[`post${name}`]].filter((x): x is string => typeof x === 'string');
      return body.length ? lit(body.join('\n')) : null;
    } catch {
      return null;
    }
  }
  if (base === 'make' || base === 'gmake') {
    const targets = w.slice(1).filter((x) => !x.startsWith('-') && !x.includes('='));
    const mk = env.readFile('Makefile') ?? env.readFile('makefile') ?? env.readFile('GNUmakefile');
    if (mk === undefined) return null;
    const lines = mk.split('\n');
    const recipe = (t: string) => {
      const at = lines.findIndex((l) => new RegExp(`^${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:(?!=)`).test(l));
      const out: string[] = [];
      for (let i = at + 1; at >= 0 && i < lines.length && lines[i]!.startsWith('\t'); i++) out.push(lines[i]!.slice(1).replace(/^[@+-]+/, '').replace(/\$\$/g, '$'));
      return out;
    };
    const first = lines.find((l) => /^[A-Za-z0-9_.-]+\s*:(?!=)/.test(l) && !l.startsWith('.'))?.split(':')[0]?.trim();
    const body = (targets.length ? targets : first ? [first] : []).flatMap(recipe);
    // make variables ($(X)) are not shell: a recipe that uses them is read as far as it goes
    return body.length ? lit(body.map((l) => l.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, '$${$1}')).join('\n')) : null;
  }
  if (words[0]!.text.includes('/') && !SHELLS.has(base)) {
    const text = env.readFile(words[0]!.text);
    if (text === undefined) return null;
    if (/^#!.*\b(ba|da|z|k)?sh\b/.test(text) || (/\.(sh|bash)$/.test(base) && !text.startsWith('#!'))) return lit(text);
    return null;
  }
  return undefined;
}


/** web-tree-sitter's indices are UTF-16 code units of the parsed string, as JavaScript's. */
const sliceBytes = (src: string, from: number, to: number) => src.slice(from, to);

/** `cat f`, `< f` (as the only redirect of an empty command), `head f`: the file named. */
function catTarget(n: TSNode, w: Walker): Word | undefined {
  let cmd = n;
  let redirectInput: Word | undefined;
  if (n.type === 'redirected_statement') {
    const r = n.childrenForFieldName('redirect').find((x) => x?.type === 'file_redirect');
    const dest = r?.childForFieldName('destination');
    if (dest && r?.children.some((c) => c?.type === '<')) redirectInput = w.word(dest);
    const body = n.childForFieldName('body');
    if (!body) return redirectInput;
    cmd = body;
  }
  if (cmd.type !== 'command') return redirectInput;
  const args = cmd.namedChildren.filter((c): c is TSNode => !!c && c.type !== 'command_name' && !/redirect$/.test(c.type));
  const name = cmd.childForFieldName('name')?.text;
  if ((name === 'cat' || name === 'head' || name === 'tail') && args.length >= 1) return w.word(args[args.length - 1]!);
  return redirectInput;
}

/** The argv without `sudo`, `env A=1`, `timeout 5`, `xargs -0`…: the command that really runs. */
export function stripWrappers(argv: Word[]): Word[] {
  let words = argv;
  for (let guard = 0; guard < 8 && words.length; guard++) {
    const base = words[0]!.text.split('/').pop()!;
    if (base === 'sudo' || base === 'doas') {
      // sudo -u user -g group … cmd: options and their values
      let i = 1;
      while (i < words.length && words[i]!.text.startsWith('-')) i += /^-[ugCDhpRTU]$/.test(words[i]!.text) ? 2 : 1;
      words = words.slice(i);
      continue;
    }
    if (WRAPPERS.has(base)) words = words.slice(1).filter((w, i, a) => !(i === 0 && w.text.startsWith('-')) || a.length === 1);
    else if (base === 'env') {
      let i = 1;
      while (i < words.length && (words[i]!.text.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!.text))) i++;
      words = words.slice(i);
    } else if (base === 'npx' || base === 'bunx' || base === 'pnpx') {
      let i = 1;
      while (i < words.length && words[i]!.text.startsWith('-')) i += /^(-p|--package)$/.test(words[i]!.text) ? 2 : 1;
      // `npx stint …` stays as it is (the stint CLI's own commands are recognised by name)
      if (words[i]?.text === 'stint') break;
      words = words.slice(i);
    } else if (base === 'timeout') {
      let i = 1;
      while (i < words.length && words[i]!.text.startsWith('-')) i++;
      words = words.slice(i + 1);
    } else if (base === 'xargs') {
      let i = 1;
      while (i < words.length && words[i]!.text.startsWith('-')) i += /^-[IdEsLPn]$/.test(words[i]!.text) ? 2 : 1;
      words = words.slice(i);
    } else break;
    while (words.length && words[0]!.text.startsWith('-') && words.length > 1) words = words.slice(1);
  }
  return words;
}

/** What a pipe feeds a shell: `echo '…' | sh`, `printf … | bash`, `cat f | sh`, `base64 -d <<< … | sh`. */
function scriptFromPipe(from: SimpleCommand, env: Env): Word | undefined {
  const words = stripWrappers(from.argv);
  const base = words[0]?.text.split('/').pop();
  const rest = words.slice(1).filter((w) => !/^-[a-zA-Z]+$/.test(w.text));
  if (base === 'echo' || base === 'printf') return { text: rest.map((w) => w.text).join(' '), literal: rest.every((w) => w.literal), refs: [], files: [] };
  if (base === 'cat' && rest[0]?.literal) {
    const t = env.readFile(rest[0].text);
    return t === undefined ? undefined : { text: t, literal: true, refs: [], files: [] };
  }
  if (base === 'base64' && words.some((w) => w.text === '-d' || w.text === '--decode')) {
    const input = from.stdin ?? (from.pipedFrom ? scriptFromPipe(from.pipedFrom, env) : undefined);
    if (!input?.literal) return undefined;
    return { text: Buffer.from(input.text.trim(), 'base64').toString('utf8'), literal: true, refs: [], files: [] };
  }
  return undefined;
}

/** `ssh [options] [user@]host command…`: the host and the command it runs there (words joined, as ssh does). */
export function sshCommand(words: Word[]): { host: string; script: string } | undefined {
  if (words[0]?.text.split('/').pop() !== 'ssh') return undefined;
  let i = 1;
  while (i < words.length && words[i]!.text.startsWith('-')) i += /^-[bcDEeFIiJLlmOopQRSWw]$/.test(words[i]!.text) ? 2 : 1;
  const dest = words[i];
  const rest = words.slice(i + 1);
  if (!dest || rest.length === 0) return undefined;
  const host = dest.text.replace(/^ssh:\/\//, '').replace(/^[^@]*@/, '').replace(/:\d+$/, '').toLowerCase();
  return { host, script: rest.map((w) => w.text).join(' ') };
}
