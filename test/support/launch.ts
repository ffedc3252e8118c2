/** Helpers the launch tests share: the LaunchError a call throws, and a temporary folder of launch files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { LaunchError } from '../../runtime/launch/index.js';

/** The LaunchError `f` throws (fails the test if it throws something else, or nothing). */
export function launchErrorOf(f: () => unknown): LaunchError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LaunchError);
    return e as LaunchError;
  }
  throw new Error('expected a LaunchError');
}

/** A folder made before the suite's tests and removed after them; `write` puts a file in it and returns its path. */
export function launchTree(prefix: string): { readonly dir: string; write(name: string, text: string): string } {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    get dir() {
      return dir;
    },
    write(name: string, text: string): string {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
  };
}
