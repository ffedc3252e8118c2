/** `.launch.py` files, evaluated by python3 against the launch/launch_ros shim, give the same description as XML/YAML. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveLaunch, type LaunchNode, type ResolvedLaunch } from './index.js';
import { launchErrorOf, launchTree } from '../../test/support/launch.js';

const PREFIX = join(import.meta.dirname, 'testdata', 'install');
const NAV = join(PREFIX, 'share', 'kestrel_nav', 'launch');
const env = { AMENT_PREFIX_PATH: PREFIX };

const hasPython = ((): boolean => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.log('python.test.ts: python3 not found, Python launch file tests skipped');
    return false;
  }
})();

const nodeSummary = (n: LaunchNode): string[] => [n.fqn, `${n.package}/${n.executable}`, JSON.stringify([...n.params].map(([k, o]) => [k, o.value, o.type])), n.remaps.map((r) => `${r.from}:=${r.to}`).join(' ')];

describe.skipIf(!hasPython)('Python launch files', () => {
  it('a navigation-style bringup: RewrittenYaml params, includes of Python and XML files, conditions, PythonExpression', () => {
    const r = resolveLaunch(join(NAV, 'bringup_launch.py'), {}, { env });
    expect(r.nodes.map(nodeSummary)).toEqual([
      ['/map_server', 'nav2_map_server/map_server', '[["use_sim_time",false,"bool"],["yaml_filename","map.yaml","string"]]', '/tf:=tf /tf_static:=tf_static'],
      ['/amcl', 'nav2_amcl/amcl', '[["use_sim_time",false,"bool"],["alpha1",0.2,"double"],["base_frame_id","base_footprint","string"],["max_particles",2000,"int"]]', '/tf:=tf /tf_static:=tf_static'],
      ['/lifecycle_manager_localization', 'nav2_lifecycle_manager/lifecycle_manager', '[["use_sim_time",false,"bool"],["autostart",true,"bool"],["node_names",["map_server","amcl"],"string[]"]]', ''],
      ['/planner', 'kestrel/talker', '[["rate_hz",2.5,"double"]]', ''],
      // A Python str stays a string ('5'), as launch_ros keeps Python types.
      ['/status_talker', 'kestrel/talker', '[["rate_hz",5,"double"],["message","5","string"],["use_sim_time",false,"bool"]]', ''],
    ]);
    expect(r.containers).toEqual([]);
    expect(r.args.find((a) => a.name === 'use_composition')).toMatchObject({ value: 'False', default: 'False' });
    expect(r.files.map((f) => f.split('/').pop())).toEqual(['bringup_launch.py', 'localization_launch.py', 'planning.launch.xml']);
    expect(r.nodes[0]!.params.get('yaml_filename')!.source).toMatch(/nav_params\.yaml \(rewritten\):\d+$/);
    expect(r.nodes[3]!.source).toMatch(/planning\.launch\.xml:3$/);
  });

  it('with a namespace and composition: the container, components loaded into it by full name, an OpaqueFunction run with the configurations it sees', () => {
    const r = resolveLaunch(join(NAV, 'bringup_launch.py'), { use_composition: 'True', use_namespace: 'true', namespace: 'robot1', use_sim_time: 'true' }, { env });
    expect(r.containers.map((c) => [c.fqn, c.executable])).toEqual([['/robot1/nav2_container', 'component_container_isolated']]);
    expect(r.components.map((c) => [c.fqn, c.plugin, c.container, c.params.get('use_sim_time')?.value])).toEqual([
      ['/robot1/map_server', 'nav2_map_server::MapServer', '/robot1/nav2_container', true],
      ['/robot1/amcl', 'nav2_amcl::AmclNode', '/robot1/nav2_container', true],
    ]);
    expect(r.nodes.map((n) => n.fqn)).toEqual(['/robot1/sim_clock_listener', '/robot1/planner']);
    expect(r.nodes[0]!.source).toMatch(/localization_launch\.py:15$/);
  });

  describe('the same description as XML', () => {
    const tree = launchTree('kestrel-py-');
    const { write } = tree;
    const strip = (r: ResolvedLaunch): unknown => ({
      nodes: r.nodes.map((n) => ({ ...nodeSummary(n), env: n.env, args: n.args, ns: n.namespace, name: n.name })),
      execs: r.executables.map((x) => x.cmd),
      logs: r.logs,
      args: r.args.map((a) => [a.name, a.value, a.default, a.description]),
    });

    it('args, lets, groups, namespaces, conditions, params, remaps, env, set-parameter, set-remap, executables, logs', () => {
      const xml = write('same.launch.xml', `<launch>
  <arg name="robot" default="r1" description="robot name"/>
  <arg name="mode" default="fast"/>
  <let name="topic" value="/$(var robot)/cmd"/>
  <set_env name="KESTREL_X" value="1"/>
  <set_parameter name="use_sim_time" value="true"/>
  <group>
    <push-ros-namespace namespace="$(var robot)"/>
    <set_remap from="/tf" to="tf"/>
    <node pkg="kestrel" exec="talker" name="t" args="--a 'b c'">
      <param name="rate_hz" value="2.0"/>
      <param name="nested"><param name="x" value="1"/></param>
      <param name="list" value="[1, 2]"/>
      <remap from="chatter" to="$(var topic)"/>
      <env name="E" value="$(env HOME_X x)"/>
    </node>
    <node pkg="kestrel" exec="listener" name="fast_only" if="$(equals $(var mode) fast)"/>
    <node pkg="kestrel" exec="listener" name="never" unless="true"/>
  </group>
  <executable cmd="echo hi 'a b'" name="e"/>
  <log message="robot $(var robot) $(eval '2**70')"/>
</launch>
`);
      const py = write('same_launch.py', `from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, GroupAction, LogInfo, SetEnvironmentVariable, SetLaunchConfiguration
from launch.conditions import LaunchConfigurationEquals, UnlessCondition
from launch.substitutions import EnvironmentVariable, LaunchConfiguration, PythonExpression
from launch_ros.actions import Node, PushRosNamespace, SetParameter, SetRemap


def generate_launch_description():
    robot = LaunchConfiguration('robot')
    return LaunchDescription([
        DeclareLaunchArgument('robot', default_value='r1', description='robot name'),
        DeclareLaunchArgument('mode', default_value='fast'),
        SetLaunchConfiguration('topic', ['/', robot, '/cmd']),
        SetEnvironmentVariable('KESTREL_X', '1'),
        SetParameter(name='use_sim_time', value=True),
        GroupAction([
            PushRosNamespace(robot),
            SetRemap(src='/tf', dst='tf'),
            Node(package='kestrel', executable='talker', name='t', arguments=['--a', 'b c'],
                 parameters=[{'rate_hz': 2.0, 'nested': {'x': 1}, 'list': [1, 2]}],
                 remappings=[('chatter', LaunchConfiguration('topic'))],
                 additional_env={'E': EnvironmentVariable('HOME_X', default_value='x')}),
            Node(package='kestrel', executable='listener', name='fast_only', condition=LaunchConfigurationEquals('mode', 'fast')),
            Node(package='kestrel', executable='listener', name='never', condition=UnlessCondition('true')),
        ]),
        ExecuteProcess(cmd=['echo', 'hi', 'a b'], name='e'),
        LogInfo(msg=['robot ', robot, ' ', PythonExpression('2**70')]),
    ])
`);
      const x = resolveLaunch(xml, {}, { env: {} });
      const p = resolveLaunch(py, {}, { env: {} });
      expect(strip(p)).toEqual(strip(x));
      expect(p.logs).toEqual(['robot r1 1180591620717411303424']);
      expect(strip(resolveLaunch(py, { mode: 'slow', robot: 'r9' }, { env: {} }))).toEqual(strip(resolveLaunch(xml, { mode: 'slow', robot: 'r9' }, { env: {} })));
    });

    it('ParameterFile(RewrittenYaml(...), allow_substs=True): substitutions in the file, then the rewrites; launch_arguments as a dict', () => {
      write('subst.yaml', 'cam:\n  ros__parameters:\n    frame: $(var robot)_camera\n    fps: 30\n    exposure: 1.0\n');
      const f = write('pf_launch.py', `import os
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch_ros.actions import Node
from launch_ros.descriptions import ParameterFile
from nav2_common.launch import RewrittenYaml


def generate_launch_description():
    params = RewrittenYaml(source_file=os.path.join(os.path.dirname(__file__), 'subst.yaml'), param_rewrites={'cam.ros__parameters.fps': '15'}, convert_types=True)
    return LaunchDescription([
        DeclareLaunchArgument('robot', default_value='r2'),
        Node(package='p', executable='cam', name='cam', parameters=[ParameterFile(params, allow_substs=True)]),
    ])
`);
      const n = resolveLaunch(f, {}, { env: {} }).nodes[0]!;
      expect([...n.params].map(([k, o]) => [k, o.value, o.type])).toEqual([['frame', 'r2_camera', 'string'], ['fps', 15, 'int'], ['exposure', 1, 'double']]);
    });

    it('an XML file includes a Python one (and its launch configurations leak back, as any include)', () => {
      write('inner_launch.py', "from launch import LaunchDescription\nfrom launch.actions import DeclareLaunchArgument\n\ndef generate_launch_description():\n    return LaunchDescription([DeclareLaunchArgument('who', default_value='py')])\n");
      const f = write('outer.launch.xml', '<launch>\n  <include file="inner_launch.py"/>\n  <log message="$(var who)"/>\n</launch>');
      expect(resolveLaunch(f, {}, { env: {} }).logs).toEqual(['py']);
    });

    it.each([
      ['an unsupported API', "from launch.actions import TimerAction\n", 1, /launch\.actions\.TimerAction is not supported by Kestrel's launch shim \(supported: .*DeclareLaunchArgument/],
      ['an unknown module', 'import launch_ros.event_handlers\n', 1, /ModuleNotFoundError: No module named 'launch_ros\.event_handlers'/],
      ['a failing file', 'from launch import LaunchDescription\n\ndef generate_launch_description():\n    x = {}\n    return LaunchDescription([x["missing"]])\n', 5, /KeyError: 'missing'/],
      ['invalid Python', 'def generate_launch_description(:\n', 1, /invalid Python/],
      ['no generate_launch_description', 'x = 1\n', undefined, /no generate_launch_description\(\) function/],
      ['a non-action', 'from launch import LaunchDescription\n\ndef generate_launch_description():\n    return LaunchDescription([42])\n', undefined, /a int is not a launch action Kestrel knows/],
    ])('%s → a LaunchError at file:line', (_what, src, line, re) => {
      const f = write('bad_launch.py', src);
      const e = launchErrorOf(() => resolveLaunch(f, {}, { env: {} }));
      expect(e.message).toMatch(re);
      expect(e.file).toBe(f);
      expect(e.line).toBe(line);
    });

    it('printing to stdout while describing is named, not a JSON crash', () => {
      const f = write('noisy_launch.py', "from launch import LaunchDescription\nprint('hello')\n\ndef generate_launch_description():\n    return LaunchDescription([])\n");
      expect(launchErrorOf(() => resolveLaunch(f, {}, { env: {} })).message).toMatch(/printed to stdout while being described/);
    });
  });
});
