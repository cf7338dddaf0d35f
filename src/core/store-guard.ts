import { isStintError, unavailable } from './errors.js';

/**
 * Wraps a store so that any failure to read or write surfaces as `temporarily_unavailable`
 * (503): the request fails closed and nothing is issued, instead of an anonymous 500.
 */
export function guardStore<T extends object>(store: T): T {
  const wrap = <T extends object>(part: T, name: string): T =>
    new Proxy(part, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value === 'function') {
          return async (...args: unknown[]) => {
            try {
              return await value.apply(target, args);
            } catch (e) {
              throw isStintError(e) ? e : unavailable(`the ${name} store`, e);
            }
          };
        }
        if (value && typeof value === 'object') return wrap(value, String(prop));
        return value;
      },
    });
  return wrap(store, 'data');
}
