/**
 * A native library bound through koffi on first use, once per process: the binding, or why it
 * could not be made (kept, so every later call reports the same reason). koffi is CommonJS with a
 * native part: required on first use (`requireKoffi`), so that a process that never needs a native
 * library never loads it.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

export const requireKoffi = (): typeof Koffi => createRequire(import.meta.url)('koffi') as typeof Koffi;

export interface LazyNative<T> {
  /** The binding, or undefined when `bind` threw. */
  get(): T | undefined;
  /** Why the binding could not be made ('' when it could). */
  error(): string;
}

export function lazyNative<T>(bind: () => T): LazyNative<T> {
  let lib: T | null | undefined;
  let error = '';
  const get = (): T | undefined => {
    if (lib === undefined) {
      try {
        lib = bind();
      } catch (e) {
        lib = null;
        error = (e as Error).message;
      }
    }
    return lib ?? undefined;
  };
  return {
    get,
    error: () => {
      get();
      return error;
    },
  };
}
