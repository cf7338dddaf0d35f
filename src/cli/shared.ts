// What every command shares: one-line failures, --json or text output, the operator's HTTP calls.
import type { Command } from 'commander';

/**
 * A failure the user should read: printed as `stint: <message>` on one line (with --json, as
 * `{error, error_description}` on stderr), exit status 2.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 'failed',
  ) {
    super(message);
  }
}

export const fail = (message: string, code?: string): never => {
  throw new CliError(message, code);
};

/** Flattens a message to one line (agent-controlled text never spans lines on a terminal). */
export const oneLine = (s: string) => s.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').trim();

/** Prints `data` as JSON for programs (`--json`), or `text(data)` for people. */
export function output<T>(json: boolean | undefined, data: T, text: (d: T) => string): void {
  console.log(json ? JSON.stringify(data, null, 2) : text(data));
}

export const DEFAULT_BROKER = 'http://127.0.0.1:8787';

/** `--url` and `--json` on an operator command. */
export function operatorOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', `the broker (default: $STINT_URL or ${DEFAULT_BROKER})`)
    .option('--json', 'print JSON for programs instead of text')
    .addHelpText('after', '\nAuthenticates with $STINT_ADMIN_TOKEN (the broker\'s operator bearer).');
}

export interface OperatorOpts {
  url?: string;
  json?: boolean;
}

export const brokerUrl = (o: OperatorOpts) => (o.url ?? process.env.STINT_URL ?? DEFAULT_BROKER).replace(/\/+$/, '');

export function adminToken(): string {
  const t = process.env.STINT_ADMIN_TOKEN;
  if (!t) fail('set STINT_ADMIN_TOKEN (the broker\'s operator bearer; npm start prints where development secrets are kept)');
  return t!;
}

/** An operator call; a refusal or an unreachable broker becomes a one-line failure. */
export async function operatorCall(o: OperatorOpts, method: string, path: string, body?: unknown): Promise<any> {
  const url = `${brokerUrl(o)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${adminToken()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    return fail(`cannot reach the broker at ${brokerUrl(o)}: ${(e as Error).cause ? String(((e as Error).cause as Error).message ?? (e as Error).cause) : (e as Error).message}`);
  }
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // not JSON: kept as text
  }
  if (!res.ok) fail(`${res.status} ${parsed?.error ?? ''}: ${oneLine(String(parsed?.detail ?? parsed?.error_description ?? text))}`);
  return parsed;
}

/** Aligned columns for lists. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
