import { pino } from 'pino';
import type { RequestLogger } from '../../http/observability.js';

/**
 * One JSON line per request on stdout (pino). The line holds only what RequestLogLine names:
 * method, route pattern, status, duration and request id — never a header, query or body.
 */
export function requestLogger(service: string): RequestLogger {
  const log = pino({ base: { service }, level: process.env.STINT_LOG_LEVEL ?? 'info' });
  return (line) => log.info(line, 'request');
}
