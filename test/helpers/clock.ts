import type { Clock } from '../../src/core/ports.js';

/** A clock that moves only when told to. */
export class FrozenClock implements Clock {
  constructor(public t = Date.UTC(2026, 10, 21, 12, 0, 0)) {}
  now() {
    return this.t;
  }
  advance(seconds: number) {
    this.t += seconds * 1000;
  }
}
