import type { Command } from 'commander';
import { adminToken, brokerUrl, fail, oneLine, operatorCall, operatorOptions, output, type OperatorOpts } from '../shared.js';

/** `stint audit tail|verify`. */
export function register(program: Command): void {
  const audit = program.command('audit').description("follow and check the broker's hash-chained audit log (operator)");
  operatorOptions(audit.command('verify').description('check the hash chain of the whole audit log; exits non-zero if it is broken')).action(async (o: OperatorOpts) => {
    const r = await operatorCall(o, 'GET', '/v1/audit/verify');
    output(o.json, r, (v) => (v.ok ? `audit log intact: ${v.count} records, head ${v.head}${v.checkpoint ? ` (from the signed checkpoint at record ${v.checkpoint.seq}, ${v.checkpoint.at}: older records were pruned by retention)` : ''}` : `audit log BROKEN at record ${v.brokenAt}: ${v.reason} (${v.count} records checked)`));
    if (!r.ok) process.exitCode = 1;
  });
  operatorOptions(
    audit
      .command('tail')
      .description('follow revocations and stops as they happen (the /v1/events stream)')
      .option('--from <seq>', 'replay from after this audit sequence number first (0: everything)')
      .option('--count <n>', 'exit after this many events')
      .option('--heartbeats', 'print heartbeats too'),
  ).action(async (o: OperatorOpts & { from?: string; count?: string; heartbeats?: boolean }) => {
    if (o.from !== undefined && !/^\d+$/.test(o.from)) fail('--from must be a sequence number');
    if (o.count !== undefined && !/^[1-9]\d*$/.test(o.count)) fail('--count must be a positive integer');
    const limit = o.count === undefined ? Infinity : Number(o.count);
    const controller = new AbortController();
    let res: Response;
    try {
      res = await fetch(`${brokerUrl(o)}/v1/events`, {
        headers: { Authorization: `Bearer ${adminToken()}`, Accept: 'text/event-stream', ...(o.from !== undefined ? { 'Last-Event-ID': o.from } : {}) },
        signal: controller.signal,
      });
    } catch (e) {
      return fail(`cannot reach the broker at ${brokerUrl(o)}: ${(e as Error).message}`);
    }
    if (!res.ok || !res.body) {
      const b = (await res.json().catch(() => ({}))) as { error?: string; detail?: string };
      return fail(`${res.status} ${b.error ?? ''}: ${oneLine(b.detail ?? '')}`);
    }
    const { createParser } = await import('eventsource-parser');
    let seen = 0;
    const parser = createParser({
      onEvent: (m) => {
        // One chunk may carry more events than asked for: stop at the count.
        if (seen >= limit) return;
        if (m.event === 'stream.open' || (m.event === 'heartbeat' && !o.heartbeats)) return;
        let data: any = m.data;
        try {
          data = JSON.parse(m.data);
        } catch {
          // kept as text
        }
        if (o.json) console.log(JSON.stringify({ id: m.id, event: m.event, data }));
        else console.log(`${m.id ?? '-'}  ${m.event ?? 'message'}  ${oneLine(typeof data === 'string' ? data : JSON.stringify(data))}`);
        if (m.event !== 'heartbeat' && ++seen >= limit) controller.abort();
      },
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch (e) {
      if (!controller.signal.aborted) fail(`event stream ended: ${(e as Error).message}`);
      return;
    }
    if (seen < limit) fail('the broker closed the event stream');
  });
}
