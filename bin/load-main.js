// Finds the `main` of the kestrel CLI for the two bin/ launchers. It runs the JavaScript that `npm run build`
// (tsc -p tsconfig.build.json; the `prepare` script, so `npm ci` and `npm install` run it) compiles into
// dist/: a start in a fraction of a second instead of seconds of tsx transpiling. The TypeScript sources run
// through tsx instead when dist/ is missing, older than a source file (edited since the last build: stale
// JavaScript would run old code), or KESTREL_FROM_SOURCE=1.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const stamp = new URL('dist/.built', root);
// The folders tsconfig.build.json compiles.
const SOURCES = ['cli', 'app', 'lib', 'runtime', 'nodes', 'msgs', 'sim', 'models/gguf'];

/** The first source file modified after `since` (ms), or undefined. Tests are not compiled, so they do not count. */
function newerSource(since) {
  const stack = SOURCES.map((d) => join(fileURLToPath(root), d));
  while (stack.length > 0) {
    const dir = stack.pop();
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name.endsWith('.ts') && !/\.(test|fuzz|bench|d)\.ts$/.test(e.name) && statSync(p).mtimeMs > since) return p;
    }
  }
  return undefined;
}

/** Whether dist/ is built, and the first source file edited since (then dist/ is stale). Also read by cli/build.test.ts. */
export function distState() {
  if (!existsSync(stamp)) return { built: false, stale: undefined };
  return { built: true, stale: newerSource(statSync(stamp).mtimeMs) };
}

function compiledIsCurrent() {
  if (process.env.KESTREL_FROM_SOURCE === '1') return false;
  const { built, stale } = distState();
  if (stale) process.stderr.write(`kestrel: ${stale} is newer than dist/ (npm run build compiles it); running the TypeScript sources\n`);
  return built && !stale;
}

export async function loadMain() {
  if (compiledIsCurrent()) return (await import(new URL('dist/cli/main.js', root).href)).main;
  const { register } = await import('tsx/esm/api');
  register();
  return (await import(new URL('cli/main.ts', root).href)).main;
}
