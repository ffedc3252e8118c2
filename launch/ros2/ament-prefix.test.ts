import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, writeAmentPrefix } from './ament-prefix.js';

describe('ament prefix for ros2 run / ros2 launch', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'kestrel-ament-'));
  afterAll(() => rmSync(prefix, { recursive: true, force: true }));

  it('registers the package and writes one executable per node that runs kestrel-node with the ROS 2 transport', () => {
    const execs = writeAmentPrefix(prefix, { executables: ['talker', 'listener'] });
    expect(existsSync(join(prefix, 'share/ament_index/resource_index/packages/kestrel'))).toBe(true);
    expect(readFileSync(join(prefix, 'share/kestrel/package.xml'), 'utf8')).toContain('<name>kestrel</name>');
    expect(readlinkSync(join(prefix, 'share/kestrel/launch'))).toBe(join(REPO_ROOT, 'launch'));
    expect(execs).toEqual([join(prefix, 'lib/kestrel/talker'), join(prefix, 'lib/kestrel/listener')]);
    expect(statSync(execs[0]).mode & 0o111).not.toBe(0);
    expect(readFileSync(execs[0], 'utf8')).toMatch(/kestrel-node\.js' 'talker' --transport ros2 "\$@"/);
  });

  it('the executable accepts what ros2 launch passes (here: usage, since ROS 2 is not sourced)', () => {
    const [talker] = writeAmentPrefix(prefix, { executables: ['talker'] });
    const out = execFileSync(talker, ['--ros-args', '-r', '__node:=t', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(out).toContain('usage: kestrel node <executable>');
  });
});
