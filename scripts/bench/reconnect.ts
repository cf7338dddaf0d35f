// A verifier reconnecting, as the storm benches make 200 of them do at once.

/** Opens `/v1/events?from=recent` and resolves once `stream.open` came (the backlog is out), then closes it. */
export async function reconnect(url: string, authorization: string): Promise<void> {
  const ctl = new AbortController();
  const res = await fetch(`${url}/v1/events?from=recent`, { headers: { Authorization: authorization }, signal: ctl.signal });
  if (res.status !== 200) throw new Error(`stream: ${res.status} ${await res.text()}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended before stream.open');
    buf += value;
    if (buf.includes('event: stream.open')) break;
    buf = buf.slice(-64);
  }
  ctl.abort();
}
