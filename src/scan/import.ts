// `stint scan --import`: each credential found in the workspace's files goes into custody (one
// entry per distinct value, bound to the host its kind is sent to and the environment given),
// and every occurrence of it in the files becomes a reference, `stint-placeholder:NAME`: a
// stand-in the scanner, the guard and the egress proxy all read as no credential (the word
// "placeholder" marks it, as in `your-token-placeholder`), safe unquoted in a sourced .env, JSON
// and YAML. Under `stint run --env VAR=NAME` the agent gets a live placeholder in its place.
// Values are sent to the broker only, never printed.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { relative } from 'node:path';
import { files, type Located } from './workspace.js';

export const reference = (name: string) => `stint-placeholder:${name}`;

export interface Imported {
  name: string;
  host: string;
  kind: string;
  /** Where it was replaced: file:line. */
  places: string[];
  variable?: string;
}
export interface Skipped {
  place: string;
  kind: string;
  why: string;
}

/**
 * Moves the located findings into custody with `store(entry)` and rewrites the files.
 * A value whose host cannot be told (an unknown kind) or which could not be located is skipped,
 * with why: it is left in place for the operator to move by hand.
 */
export async function importFindings(
  root: string,
  environment: string,
  found: Located[],
  store: (e: { name: string; environment: string; hosts: string[]; header: string; scheme: string; value: string }) => Promise<void>,
): Promise<{ imported: Imported[]; skipped: Skipped[] }> {
  const imported: Imported[] = [];
  const skipped: Skipped[] = [];
  const byValue = new Map<string, Located[]>();
  for (const f of found) {
    const place = `${f.file}:${f.line}`;
    if (!f.value) skipped.push({ place, kind: f.kind, why: 'its value could not be told apart on its line; move it by hand (stint vault put)' });
    else if (!f.custody.host) skipped.push({ place, kind: f.kind, why: 'no provider host is known for it; move it by hand (stint vault put NAME --host …)' });
    else byValue.set(f.value, [...(byValue.get(f.value) ?? []), f]);
  }
  const taken = new Set<string>();
  for (const [value, fs] of byValue) {
    const first = fs[0]!;
    let name = first.custody.name;
    for (let n = 2; taken.has(name); n++) name = `${first.custody.name}-${n}`;
    taken.add(name);
    await store({ name, environment, hosts: [first.custody.host!], header: 'Authorization', scheme: 'Bearer', value });
    // Every text file holding the value, not only where the scanner saw it in a credential
    // position (a note, a test fixture): once in custody, no copy stays in the workspace.
    const also: string[] = [];
    for (const p of files(root)) {
      if (!rewriteInPlace(p, value, reference(name))) continue;
      const rel = relative(root, p);
      if (!fs.some((f) => f.file === rel)) also.push(rel);
    }
    imported.push({ name, host: first.custody.host!, kind: first.kind, places: [...fs.map((f) => `${f.file}:${f.line}`), ...also], ...(fs.find((f) => f.variable)?.variable ? { variable: fs.find((f) => f.variable)!.variable } : {}) });
  }
  return { imported, skipped };
}

/**
 * Replaces every `value` in the regular file at `p` with `ref`, through one descriptor opened
 * without following a symbolic link, and only for a file with one link: a hard link or a file
 * swapped for a symlink since the walk would have the rewrite land outside the workspace.
 * Binary files and files over 1 MiB are left alone. Says whether it rewrote.
 */
function rewriteInPlace(p: string, value: string, ref: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(p, constants.O_RDWR | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink > 1 || st.size > 1024 * 1024) return false;
    const buf = readFileSync(fd);
    if (buf.includes(0) || !buf.includes(value)) return false;
    const out = Buffer.from(buf.toString('utf8').split(value).join(ref));
    ftruncateSync(fd, 0);
    writeSync(fd, out, 0, out.length, 0);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
