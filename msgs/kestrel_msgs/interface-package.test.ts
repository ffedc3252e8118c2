/** The rosidl package must list every dependency the .msg files use, so `colcon build` succeeds. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = dirname(fileURLToPath(import.meta.url));

describe('kestrel_msgs ROS 2 interface package', () => {
  it('declares every package its messages depend on, in package.xml and CMakeLists.txt', () => {
    const used = new Set<string>();
    for (const f of readdirSync(join(dir, 'msg'))) {
      for (const line of readFileSync(join(dir, 'msg', f), 'utf8').split('\n')) {
        const m = /^\s*([a-z_]+)\/[A-Za-z0-9]+/.exec(line);
        if (m && m[1] !== 'kestrel_msgs') used.add(m[1]);
      }
    }
    const xml = readFileSync(join(dir, 'package.xml'), 'utf8');
    const cmake = readFileSync(join(dir, 'CMakeLists.txt'), 'utf8');
    expect(used.size).toBeGreaterThan(0);
    for (const pkg of used) {
      expect(xml).toContain(`<depend>${pkg}</depend>`);
      expect(cmake).toContain(`find_package(${pkg} REQUIRED)`);
      expect(cmake).toMatch(new RegExp(`DEPENDENCIES[^)]*\\b${pkg}\\b`));
    }
    expect(xml).toContain('<member_of_group>rosidl_interface_packages</member_of_group>');
  });
});
