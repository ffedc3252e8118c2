/**
 * Kestrel's package root: the folder holding its package.json. Files read at run time (launch files,
 * params files, scenarios, models, the generated-model cache) are found from here, never from the folder
 * of the module that reads them: the same module runs from the TypeScript sources (tsx, vitest) and
 * compiled under dist/, one level deeper, and both must see the same files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from `start` (a file URL or path) to the first folder whose package.json is named `name`. */
export function findPackageRoot(start: string, name = 'kestrel'): string {
  let dir = dirname(start.startsWith('file:') ? fileURLToPath(start) : start);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && packageName(pkg) === name) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json named '${name}' in any folder above ${start}`);
    dir = up;
  }
}

function packageName(file: string): string | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof v === 'object' && v !== null && 'name' in v && typeof v.name === 'string' ? v.name : undefined;
  } catch {
    return undefined;
  }
}

/** The repository (or installed package) root, wherever this module was loaded from. */
export const PACKAGE_ROOT = findPackageRoot(import.meta.url);
