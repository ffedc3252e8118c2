/**
 * The one place tests find the fixtures (real ROS 2 bags, launch/params files, peers' bytes) that live outside the
 * repository, in `../shared/fixtures` beside the checkout. A fresh clone has no such folder: every test that needs it is
 * skipped, and a console line names the path that is missing, so `npm test` passes and says what it did not run.
 *
 * KESTREL_FIXTURES overrides the root: a path points elsewhere, `none` runs as if the fixtures were absent (CI runs the
 * suite once each way from the same checkout).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { describe, it } from 'vitest';

/** The repository root (this file is test/support/fixtures.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

const env = process.env.KESTREL_FIXTURES;
const disabled = env === 'none';

/** The fixtures root: `../shared/fixtures` from the repository root unless KESTREL_FIXTURES says otherwise. */
export const FIXTURES_ROOT = env && !disabled ? (isAbsolute(env) ? env : resolve(REPO_ROOT, env)) : join(REPO_ROOT, '..', 'shared', 'fixtures');

/** A path under the fixtures root (it may not exist: guard the test with `describeFixtures`/`itFixtures`). */
export const fixture = (...parts: string[]): string => join(FIXTURES_ROOT, ...parts);

/** The first of these fixture paths (relative to the root; none = the root itself) that is missing, or undefined. */
export function missingFixture(...rel: string[]): string | undefined {
  if (disabled) return rel.length ? fixture(rel[0]) : FIXTURES_ROOT;
  for (const r of rel.length ? rel : ['']) {
    const p = fixture(r);
    if (!existsSync(p)) return p;
  }
  return undefined;
}

/** Whether all these fixture paths (relative to the root; none = the root itself) exist. */
export const hasFixtures = (...rel: string[]): boolean => missingFixture(...rel) === undefined;

function skipReason(name: string, rel: string[]): string | undefined {
  const missing = missingFixture(...rel);
  if (missing === undefined) return undefined;
  const why = disabled ? 'KESTREL_FIXTURES=none' : 'not found';
  console.warn(`[fixtures] skipped "${name}": ${missing} (${why}; fixtures live in ../shared/fixtures beside the checkout)`);
  return missing;
}

/** `describe` that runs only when the fixture paths exist; otherwise it is skipped with a printed reason. */
export function describeFixtures(name: string, rel: string | string[], fn: () => void): void {
  const paths = typeof rel === 'string' ? [rel] : rel;
  describe.skipIf(skipReason(name, paths) !== undefined)(name, fn);
}

/** `it` that runs only when the fixture paths exist; otherwise it is skipped with a printed reason. */
export function itFixtures(name: string, rel: string | string[], fn: () => unknown, timeout?: number): void {
  const paths = typeof rel === 'string' ? [rel] : rel;
  it.skipIf(skipReason(name, paths) !== undefined)(name, async () => {
    await fn();
  }, timeout);
}
