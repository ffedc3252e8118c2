/** `kestrel launch`: package lookup, --ament-prefix-path, -s, --print with containers and components. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureOutput, UsageError } from '../command.js';
import { launchCommand, parseLaunchArgv } from './launch.js';

const PREFIX = join(import.meta.dirname, '..', '..', 'runtime', 'launch', 'testdata', 'install');
const SHARE = join(PREFIX, 'share', 'kestrel_stack');

describe('kestrel launch command line', () => {
  it('splits <file> and <package> <file> as ros2 launch does; options anywhere', () => {
    expect(parseLaunchArgv(['x.launch.xml', 'a:=1'])).toEqual({ file: 'x.launch.xml', args: { a: '1' }, amentPrefixes: [], showArgs: false, print: false, transport: 'inproc' });
    expect(parseLaunchArgv(['-s', 'pkg', 'x.launch.xml', 'a:=1', '--ament-prefix-path', '/p1:/p2', '--ament-prefix-path=/p3'])).toEqual({
      file: 'x.launch.xml', package: 'pkg', args: { a: '1' }, amentPrefixes: ['/p1', '/p2', '/p3'], showArgs: true, print: false, transport: 'inproc',
    });
    expect(parseLaunchArgv(['x.launch.xml', 'v:=-1', '--print']).args).toEqual({ v: '-1' });
    expect(() => parseLaunchArgv(['--frobnicate', 'x'])).toThrow(UsageError);
    expect(() => parseLaunchArgv(['pkg', 'f', 'loose'])).toThrow("launch arguments are name:=value, got 'loose'");
    expect(() => parseLaunchArgv(['--ament-prefix-path'])).toThrow(/needs a value/);
    expect(() => parseLaunchArgv([])).toThrow('missing launch file');
    expect(parseLaunchArgv(['x.launch.xml', '--transport', 'dds']).transport).toBe('dds');
    expect(parseLaunchArgv(['--transport=inproc', 'x.launch.xml']).transport).toBe('inproc');
    expect(() => parseLaunchArgv(['x.launch.xml', '--transport', 'ros2'])).toThrow(/expected inproc or dds/);
  });

  it('<package> <file>: found under the share directory of a package on --ament-prefix-path; --print lists containers and components', async () => {
    const r = await captureOutput(() => launchCommand.run(['kestrel_stack', 'pointcloud_container.launch.xml', '--ament-prefix-path', PREFIX, '--print']));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`container /pointcloud_container  (pkg rclcpp_components, exec component_container_mt; runs as Kestrel's embedded container)  ${join(SHARE, 'launch/pointcloud_container.launch.xml')}:7`);
    expect(r.out).toMatch(/^component \/cloud_talker {2}\(pkg kestrel, plugin kestrel::talker\) in \/pointcloud_container: Kestrel node, embedded/m);
    expect(r.out).toMatch(/^component \/sensing\/crop_box_filter .*: not runnable embedded, plugin 'autoware::pointcloud_preprocessor::CropBoxFilterComponent' is not a Kestrel node/m);
    expect(r.out).toContain('  extra_arg use_intra_process_comms = true');
    expect(r.out.match(/^note: 1 composable node\(s\) not runnable/gm)).toHaveLength(1);
  });

  it('-s lists the arguments; when the file cannot resolve (a required arg), what it declares', async () => {
    const ok = await captureOutput(() => launchCommand.run(['-s', 'kestrel_stack', 'stack.launch.xml', `--ament-prefix-path=${PREFIX}`, 'preset:=planning_only']));
    expect(ok.out).toContain(`'launch_perception':\n    (default: 'true'; now: 'false' from ${join(SHARE, 'config/presets/planning_only.launch.xml')}:2 (default))`);
    const req = await captureOutput(() => launchCommand.run(['--show-args', join(SHARE, 'launch/perception.launch.xml')]));
    expect(req.code).toBe(0);
    expect(req.out).toMatch(/^\(not resolved: .*missing required launch arguments 'perception_ns' at line 2, 'input_topic' at line 3/);
    expect(req.out).toContain("'gpu_id':\n    (default: required; only under a condition)");
    // A Python file too (python3 describes it; nothing runs).
    const py = await captureOutput(() => launchCommand.run(['-s', join(PREFIX, 'share/kestrel_nav/launch/localization_launch.py')]));
    expect(py.out).toMatch(/^\(not resolved: .*missing required launch argument 'params_file'/);
    expect(py.out).toContain("'use_sim_time':\n    (default: 'false')");
  });

  it('package lookup errors say what was searched', async () => {
    await expect(launchCommand.run(['no_such_pkg', 'x.launch.xml'])).rejects.toThrow(/package 'no_such_pkg' not found .*AMENT_PREFIX_PATH=/);
    await expect(launchCommand.run(['kestrel_stack', 'nope.launch.xml', '--ament-prefix-path', PREFIX])).rejects.toThrow(
      `file 'nope.launch.xml' was not found in the share directory of package 'kestrel_stack' (${SHARE})`,
    );
    const dup = mkdtempSync(join(tmpdir(), 'kestrel-dup-'));
    for (const d of ['a', 'b']) {
      mkdirSync(join(dup, 'share', 'dup', d), { recursive: true });
      writeFileSync(join(dup, 'share', 'dup', d, 'x.launch.xml'), '<launch/>');
    }
    await expect(launchCommand.run(['dup', 'x.launch.xml', '--ament-prefix-path', dup])).rejects.toThrow(/'x\.launch\.xml' was found more than once .*a\/x\.launch\.xml, .*b\/x\.launch\.xml/);
    // Package 'kestrel' is this repository.
    expect((await captureOutput(() => launchCommand.run(['kestrel', 'demo.launch.yaml', '--print']))).out).toMatch(/^node \/demo\/talker/m);
  });
});
