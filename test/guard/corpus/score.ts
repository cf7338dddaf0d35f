// The corpus's score: per harness and per channel, attacks caught, benign calls touched
// (blocked or stopped) and false stops; and the entries that missed their label.
import type { Result } from './drive.js';

export interface Row {
  name: string;
  benign: number;
  touched: number;
  falseStops: number;
  attacks: number;
  caught: number;
  /** Caught with the expected answer (a stop where a stop is due, a block where a block is). */
  exact: number;
  egress: number;
}

const empty = (name: string): Row => ({ name, benign: 0, touched: 0, falseStops: 0, attacks: 0, caught: 0, exact: 0, egress: 0 });

function add(row: Row, r: Result) {
  if (r.entry.kind === 'egress') row.egress++;
  else if (r.entry.kind === 'benign') {
    row.benign++;
    if (r.outcome !== 'allow') row.touched++;
    if (r.outcome === 'stop') row.falseStops++;
  } else {
    row.attacks++;
    if (r.outcome !== 'allow') row.caught++;
    if (r.outcome === r.entry.expected) row.exact++;
  }
}

export function tally(results: Result[], key: (r: Result) => string): Row[] {
  const rows = new Map<string, Row>();
  const total = empty('all');
  for (const r of results) {
    const k = key(r);
    if (!rows.has(k)) rows.set(k, empty(k));
    add(rows.get(k)!, r);
    add(total, r);
  }
  return [...[...rows.values()].sort((a, b) => a.name.localeCompare(b.name)), total];
}

export function table(title: string, rows: Row[]): string {
  const lines = [`| ${title} | benign calls | benign touched | false stops | attacks | caught | as labelled | egress-only (excluded) |`, '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.name === 'all' ? '**all**' : r.name} | ${r.benign} | ${r.touched} | ${r.falseStops} | ${r.attacks} | ${r.caught} | ${r.exact} | ${r.egress} |`);
  return lines.join('\n');
}

/** Entries whose answer is not their label: false stops, benign blocks, misses, stop/block swaps. */
export function misses(results: Result[]): Result[] {
  return results.filter((r) => r.entry.kind !== 'egress' && r.outcome !== r.entry.expected);
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
