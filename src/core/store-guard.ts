import { isStintError, unavailable } from './errors.js';

/**
 * Wraps a store so that any failure to read or write surfaces as `temporarily_unavailable`
 * (503): the request fails closed and nothing is issued, instead of an anonymous 500. The
 * wrapping is done once, method by method (the store is on every request's path).
 */
export function guardStore<T extends object>(store: T): T {
  const wrap = (part: Record<string, unknown>, name: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(part)) {
      if (typeof value === 'function') {
        out[key] = async (...args: unknown[]) => {
          try {
            return await (value as (...a: unknown[]) => unknown).apply(part, args);
          } catch (e) {
            throw isStintError(e) ? e : unavailable(`the ${name} store`, e);
          }
        };
      } else if (value && typeof value === 'object') {
        out[key] = wrap(value as Record<string, unknown>, key);
      } else {
        out[key] = value;
      }
    }
    return out;
  };
  return wrap(store as Record<string, unknown>, 'data') as T;
}
