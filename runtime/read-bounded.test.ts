import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileTooLargeError, readTextBounded } from './read-bounded.js';
import { resolveLaunch } from './launch/index.js';
import { loadParamsFile } from './params-file.js';

const dir = mkdtempSync(join(tmpdir(), 'kestrel-bounded-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('bounded reads of user-named files', () => {
  it('reads a regular file, refuses endless and oversized ones with the reason', () => {
    expect(readTextBounded(file('a.txt', 'héllo'))).toBe('héllo');
    expect(() => readTextBounded('/dev/zero')).toThrow(new FileTooLargeError('/dev/zero', "'/dev/zero' is a character device, not a regular file; refusing to read it"));
    expect(() => readTextBounded(dir)).toThrow(/is a directory, not a regular file/);
    expect(() => readTextBounded(file('big.txt', 'x'.repeat(2000)), 1000)).toThrow(/is 2000 bytes, over the 1000-byte limit/);
    expect(() => readTextBounded(join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('$(file-content /dev/zero) in a launch file is a clear error at file:line, in bounded time', () => {
    const launch = file('zero.launch.xml', '<launch>\n  <let name="x" value="$(file-content /dev/zero)"/>\n</launch>\n');
    const t0 = performance.now();
    expect(() => resolveLaunch(launch, {})).toThrow(/zero\.launch\.xml:2.*\$\(file-content \/dev\/zero\): '\/dev\/zero' is a character device, not a regular file/s);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a params file or launch file that is a device is refused the same way', () => {
    expect(() => loadParamsFile('/dev/zero')).toThrow(/\/dev\/zero: .*cannot read params file: '\/dev\/zero' is a character device/);
    expect(() => resolveLaunch('/dev/zero', {})).toThrow(/cannot read launch file: '\/dev\/zero' is a character device/);
  });
});
