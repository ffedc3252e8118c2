/** Include scoping and include arguments, as ROS 2's launch does them (IncludeLaunchDescription). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveLaunch } from './index.js';
import { launchErrorOf, launchTree } from '../../test/support/launch.js';

/** A stack installed like a colcon workspace: `<prefix>/share/kestrel_stack/...`. */
const STACK_PREFIX = join(import.meta.dirname, 'testdata', 'install');
const STACK = join(STACK_PREFIX, 'share', 'kestrel_stack');

describe('include scoping (ros2/launch#620: what an included file sets stays set)', () => {
  const tree = launchTree('kestrel-include-');
  const { write } = tree;

  it("#620's example: the second file's default loses to the value the first one set", () => {
    // The files exactly as the issue gives them; ROS 2 prints "include2 has 1".
    const outside = write('outside.launch.xml', '<launch>\n    <include file="inside1.launch.xml"></include>\n    <include file="inside2.launch.xml"></include>\n</launch>\n');
    write('inside1.launch.xml', '<launch>\n    <arg name="test_arg" default="1"/>\n    <log message="include1 has $(var test_arg)"/>\n</launch>\n');
    write('inside2.launch.xml', '<launch>\n    <arg name="test_arg" default="2"/>\n    <log message="include2 has $(var test_arg)"/>\n</launch>\n');
    const r = resolveLaunch(outside, {}, { env: {} });
    expect(r.logs).toEqual(['include1 has 1', 'include2 has 1']);
    expect(r.args.map((a) => [a.name, a.value, a.from])).toEqual([
      ['test_arg', '1', 'default'],
      ['test_arg', '1', `${join(tree.dir, 'inside1.launch.xml')}:2 (default)`],
    ]);
    // The includer sees it too, and a <group> around an include scopes it.
    write('after.launch.xml', '<launch>\n  <group>\n    <include file="inside2.launch.xml"/>\n  </group>\n  <include file="inside1.launch.xml"/>\n  <log message="outside has $(var test_arg)"/>\n</launch>\n');
    expect(resolveLaunch(join(tree.dir, 'after.launch.xml'), {}, { env: {} }).logs).toEqual(['include2 has 2', 'include1 has 1', 'outside has 1']);
  });

  it('lets, include args, pushed namespaces, env and global params leak to the includer; a group scopes them', () => {
    write('setup.launch.xml', [
      '<launch>',
      '  <let name="mode" value="sim"/>',
      '  <push-ros-namespace namespace="robot"/>',
      '  <set_env name="KESTREL_MODE" value="sim"/>',
      '  <set_parameter name="use_sim_time" value="true"/>',
      '</launch>',
    ].join('\n'));
    const f = write('top.launch.xml', [
      '<launch>',
      '  <include file="setup.launch.xml"><arg name="given" value="x"/></include>',
      '  <node pkg="kestrel" exec="talker" name="t"/>',
      '  <log message="$(var mode) $(var given) $(env KESTREL_MODE)"/>',
      '</launch>',
    ].join('\n'));
    const r = resolveLaunch(f, {}, { env: {} });
    expect(r.logs).toEqual(['sim x sim']);
    expect(r.nodes[0]).toMatchObject({ fqn: '/robot/t', namespace: '/robot', env: { KESTREL_MODE: 'sim' } });
    expect(r.nodes[0]!.params.get('use_sim_time')).toMatchObject({ value: true, type: 'bool' });
    const g = write('grouped.launch.xml', '<launch>\n  <group>\n    <include file="setup.launch.xml"/>\n  </group>\n  <node pkg="kestrel" exec="talker" name="t"/>\n  <log message="$(var mode)"/>\n</launch>');
    expect(launchErrorOf(() => resolveLaunch(g, {}, { env: {} })).message).toMatch(/grouped\.launch\.xml:6: <log>: launch configuration 'mode' does not exist/);
  });

  it('$(var name default) gives the default only when the configuration is not set (LaunchConfiguration(default=...))', () => {
    const f = write('vardef.launch.xml', '<launch>\n  <log message="$(var nope fallback)"/>\n  <let name="nope" value="set"/>\n  <log message="$(var nope fallback)"/>\n</launch>');
    expect(resolveLaunch(f, {}, { env: {} }).logs).toEqual(['fallback', 'set']);
  });

  it('include args are set one after another: a later one sees an earlier one', () => {
    write('pair.launch.xml', '<launch>\n  <arg name="a"/>\n  <arg name="b"/>\n  <log message="a=$(var a) b=$(var b)"/>\n</launch>');
    const f = write('inorder.launch.xml', '<launch>\n  <include file="pair.launch.xml">\n    <arg name="a" value="1"/>\n    <arg name="b" value="$(var a)2"/>\n  </include>\n</launch>');
    expect(resolveLaunch(f, {}, { env: {} }).logs).toEqual(['a=1 b=12']);
  });

  it("required args: only the include's own arg names count (not the includer's configurations), as launch checks them", () => {
    write('needs.launch.xml', '<launch>\n  <arg name="robot" description="robot name"/>\n  <log message="$(var robot)"/>\n</launch>');
    const f = write('parent.launch.xml', '<launch>\n  <let name="robot" value="r1"/>\n  <include file="needs.launch.xml"/>\n</launch>');
    expect(launchErrorOf(() => resolveLaunch(f, {}, { env: {} })).message).toMatch(/parent\.launch\.xml:3: included file .*needs\.launch\.xml: missing required launch argument 'robot' \(robot name\) at line 2/);
    // Passed by name, with the value the includer has:
    const g = write('parent2.launch.xml', '<launch>\n  <let name="robot" value="r1"/>\n  <include file="needs.launch.xml"><arg name="robot" value="$(var robot)"/></include>\n</launch>');
    expect(resolveLaunch(g, {}, { env: {} }).logs).toEqual(['r1']);
  });

  it('required args under a false condition are skipped (their own if/unless, or a conditional group); a true one is checked when it runs', () => {
    const f = write('cond.launch.xml', [
      '<launch>',
      '  <arg name="use_gpu" default="false"/>',
      '  <arg name="gpu_id" if="$(var use_gpu)"/>',
      '  <arg name="cpu_threads" unless="true"/>',
      '  <group if="$(var use_gpu)">',
      '    <arg name="gpu_mem"/>',
      '  </group>',
      '  <log message="ok"/>',
      '</launch>',
    ].join('\n'));
    expect(resolveLaunch(f, {}, { env: {} }).logs).toEqual(['ok']);
    expect(launchErrorOf(() => resolveLaunch(f, { use_gpu: 'true' }, { env: {} })).message).toMatch(/cond\.launch\.xml:3: missing required launch argument 'gpu_id'; pass it as gpu_id:=value/);
    expect(resolveLaunch(f, { use_gpu: 'true', gpu_id: '0', gpu_mem: '4' }, { env: {} }).logs).toEqual(['ok']);
    // Unconditional ones are still listed together up front.
    const g = write('req.launch.xml', '<launch>\n  <group>\n    <arg name="a"/>\n  </group>\n  <arg name="b"/>\n</launch>');
    expect(launchErrorOf(() => resolveLaunch(g, {}, { env: {} })).message).toMatch(/req\.launch\.xml: missing required launch arguments 'a' at line 3, 'b' at line 5/);
  });

  it('<group forwarding="false"> starts from nothing but its <keep>s (namespace and global params are configurations too)', () => {
    const f = write('fwd.launch.xml', [
      '<launch>',
      '  <let name="x" value="1"/>',
      '  <push-ros-namespace namespace="outer"/>',
      '  <group forwarding="false">',
      '    <keep name="y" value="$(var x)"/>',
      '    <node pkg="kestrel" exec="talker" name="t"/>',
      '    <log message="y=$(var y)"/>',
      '  </group>',
      '  <group forwarding="false">',
      '    <log message="$(var x)"/>',
      '  </group>',
      '</launch>',
    ].join('\n'));
    expect(launchErrorOf(() => resolveLaunch(f, {}, { env: {} })).message).toMatch(/fwd\.launch\.xml:10: <log>: launch configuration 'x' does not exist/);
    const g = write('fwd2.launch.xml', readFileSync(f, 'utf8').split('\n').filter((_l, i) => i < 8 || i > 10).join('\n'));
    const r = resolveLaunch(g, {}, { env: {} });
    expect(r.logs).toEqual(['y=1']);
    expect(r.nodes[0]!.fqn).toBe('/t');
  });
});

describe('a stack with presets (testdata/install/share/kestrel_stack)', () => {
  const env = { AMENT_PREFIX_PATH: STACK_PREFIX };
  const top = join(STACK, 'launch', 'stack.launch.xml');

  it('default preset: every module, include args built from earlier ones, namespaces pushed from the top', () => {
    const r = resolveLaunch(top, {}, { env });
    expect(r.nodes.map((n) => [n.fqn, n.remaps.map((m) => `${m.from}:=${m.to}`)])).toEqual([
      ['/drone1/perception/detector', ['chatter:=perception/points']],
      ['/drone1/planner', []],
    ]);
    expect(r.nodes[1]!.params.get('rate_hz')).toMatchObject({ value: 10, type: 'double' });
  });

  it('a preset included first switches perception off and changes the planner rate for the files included after it', () => {
    const r = resolveLaunch(top, { preset: 'planning_only' }, { env });
    expect(r.nodes.map((n) => n.fqn)).toEqual(['/drone1/planner']);
    expect(r.nodes[0]!.params.get('rate_hz')).toMatchObject({ value: 20, type: 'double' });
    expect(r.args.find((a) => a.name === 'launch_perception' && a.source.endsWith('stack.launch.xml:10'))).toMatchObject({
      value: 'false',
      default: 'true',
      from: `${join(STACK, 'config/presets/planning_only.launch.xml')}:2 (default)`,
    });
    // The command line still wins over both.
    expect(resolveLaunch(top, { preset: 'planning_only', launch_perception: 'true' }, { env }).nodes).toHaveLength(2);
  });
});
