/**
 * The compiled CLI (dist/, built by `npm run build`, the `prepare` script that `npm ci` runs): it starts, and the
 * files it reads at run time (scenarios, launch and params files) are found from dist/ as from the sources.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distState } from '../bin/load-main.js';
import { REPO_ROOT } from '../test/support/fixtures.js';

const DIST_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
// The bin's own check (bin/load-main.js): a dist/ older than a source would test old code, so it is skipped too.
const state = distState();
const built = state.built && state.stale === undefined;
if (!state.built) console.warn(`[build] skipped the compiled-CLI tests: ${join(REPO_ROOT, 'dist')} is not built (npm run build; npm ci does it)`);
else if (state.stale) console.warn(`[build] skipped the compiled-CLI tests: ${state.stale} is newer than ${join(REPO_ROOT, 'dist')} (npm run build)`);

/** Runs the compiled CLI from another working directory, so nothing resolves against the repository by chance. */
function kestrel(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [DIST_MAIN, ...args], { cwd: '/', encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(!built)('compiled CLI (dist/)', () => {
  it('--help lists every command', () => {
    const r = kestrel('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}start +\S/m);
  });

  it('finds the package root, the scenarios and the launch/params files from dist/', () => {
    const root = execFileSync(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(join(REPO_ROOT, 'dist/runtime/package-root.js'))}).then((m) => process.stdout.write(m.PACKAGE_ROOT))`], { encoding: 'utf8' });
    expect(root).toBe(REPO_ROOT);
    const unknown = kestrel('start', 'nosuch');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('unknown scenario (built in: passport-queue, stranded-bag, perimeter-patrol');
    const print = kestrel('launch', join(REPO_ROOT, 'launch/drone_mission.launch.yaml'), '--print');
    expect(print.err).toBe('');
    expect(print.out).toContain(`${join(REPO_ROOT, 'config/scenarios/passport-queue.params.yaml')}:`);
  });
});
