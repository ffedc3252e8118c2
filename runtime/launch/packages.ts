/**
 * `kestrel launch <package> <file>` as `ros2 launch` finds the file: every file of that name
 * anywhere under the package's share directory; none or several is an error that says which.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LaunchError } from './entity.js';
import { findPkgShare, SubstitutionError, type PackageLookup } from './substitutions.js';

/** Directories never searched (they hold no launch files and can be huge). */
const SKIP = new Set(['node_modules', '.git']);
/** Entries looked at before giving up: a share directory is small, a mistaken `/` is not. */
const MAX_ENTRIES = 200_000;

export function findLaunchFile(pkg: string, fileName: string, lookup: PackageLookup): string {
  let share: string;
  try {
    share = findPkgShare(pkg, lookup);
  } catch (e) {
    if (e instanceof SubstitutionError) throw new LaunchError('<command line>', undefined, e.message);
    throw e;
  }
  const found: string[] = [];
  let seen = 0;
  // Like os.walk: symbolic links to directories are not followed.
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (++seen > MAX_ENTRIES) throw new LaunchError('<command line>', undefined, `package '${pkg}': more than ${MAX_ENTRIES} entries under ${share}, stopped looking for '${fileName}'`);
      if (d.isDirectory() && !SKIP.has(d.name)) walk(join(dir, d.name));
      else if (d.name === fileName && (d.isFile() || d.isSymbolicLink())) found.push(join(dir, d.name));
    }
  };
  walk(share);
  if (found.length === 0) throw new LaunchError('<command line>', undefined, `file '${fileName}' was not found in the share directory of package '${pkg}' (${share})`);
  if (found.length > 1) throw new LaunchError('<command line>', undefined, `file '${fileName}' was found more than once in the share directory of package '${pkg}': ${found.join(', ')}`);
  return found[0]!;
}
