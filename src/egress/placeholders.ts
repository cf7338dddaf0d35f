// Placeholders: what the sandbox holds instead of a custody value. Random, bound to this run's
// task and one custody entry, known only to this supervisor's proxy: anywhere else (another
// task's proxy, the provider itself) it is a meaningless string. The prefix makes every
// placeholder recognisable by format, so one of another task is caught as a credential.
import { randomBytes } from 'node:crypto';
import type { CustodyInput } from '../core/custody.js';

export const PLACEHOLDER_FORMAT = /\bstint_ph_[A-Za-z0-9]{32}\b/g;

export interface Placeholder {
  value: string;
  taskId: string;
  entry: CustodyInput;
}

export class Placeholders {
  private readonly byValue = new Map<string, Placeholder>();
  constructor(readonly taskId: string) {}

  /** A fresh placeholder for `entry` (one per variable asked for). */
  issue(entry: CustodyInput): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const bytes = randomBytes(32);
    const value = `stint_ph_${[...bytes].map((b) => alphabet[b % 62]).join('')}`;
    this.byValue.set(value, { value, taskId: this.taskId, entry });
    return value;
  }

  get(value: string): Placeholder | undefined {
    return this.byValue.get(value);
  }

  values(): string[] {
    return [...this.byValue.keys()];
  }

  /** Every placeholder-shaped string in `text`: this run's, and anyone else's. */
  static find(text: string): string[] {
    return [...text.matchAll(PLACEHOLDER_FORMAT)].map((m) => m[0]);
  }
}
