import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeFixtures, fixture } from '../../test/support/fixtures.js';
import { evalPythonExpr, KESTREL_ROOT, LaunchError, resolveLaunch, type LaunchNode, type ResolvedLaunch } from './index.js';
import { launchErrorOf, launchTree } from '../../test/support/launch.js';

const FX = fixture();
const DEMOS = join(FX, 'demos');
const defaultNodeName = (_pkg: string, exec: string): string | undefined => (['talker', 'listener'].includes(exec) ? exec : undefined);

/** The parts of a node ROS 2 would report: package, executable, name, namespace, params, remaps. */
function summary(n: LaunchNode): Record<string, unknown> {
  return {
    pkg: n.package,
    exec: n.executable,
    ...(n.name !== undefined ? { name: n.name } : {}),
    ...(n.namespace !== undefined ? { namespace: n.namespace } : {}),
    params: Object.fromEntries([...n.params].map(([k, o]) => [k, o.value])),
    remaps: n.remaps.map((r) => `${r.from}:=${r.to}`),
    output: n.output,
  };
}

describeFixtures('launch files from ROS 2 repositories', ['demos', 'launch', 'ros2_tracing'], () => {
  it.each([
    ['demo_nodes_cpp/launch/topics/talker_listener_launch', ['talker', 'listener']],
    ['demo_nodes_cpp/launch/topics/talker_listener_best_effort_launch', ['talker', 'listener_best_effort']],
    ['demo_nodes_cpp/launch/services/add_two_ints_launch', ['add_two_ints_server', 'add_two_ints_client']],
    ['demo_nodes_cpp/launch/services/add_two_ints_async_launch', ['add_two_ints_server', 'add_two_ints_client_async']],
  ])('%s (.xml and .yaml where present)', (base, execs) => {
    const xml = resolveLaunch(join(DEMOS, `${base}.xml`), {}, { env: {} });
    expect(xml.nodes.map(summary)).toEqual(execs.map((exec) => ({ pkg: 'demo_nodes_cpp', exec, params: {}, remaps: [], output: 'screen' })));
    expect(xml.nodes.map((n) => n.fqn)).toEqual(execs.map((e) => `/${e}`));
    expect(xml.executables).toEqual([]);
    if (base.includes('topics')) {
      const yaml = resolveLaunch(join(DEMOS, `${base}.yaml`), {}, { env: {} });
      expect(yaml.nodes.map(summary)).toEqual(xml.nodes.map(summary));
    }
  });

  describe('dummy_robot_bringup: $(file-content $(find-pkg-share ...))', () => {
    let prefix: string;
    const urdf = '<robot name="single_rrbot"><link name="base"/></robot>\n';
    beforeAll(() => {
      prefix = mkdtempSync(join(tmpdir(), 'kestrel-ament-'));
      mkdirSync(join(prefix, 'share', 'dummy_robot_bringup', 'launch'), { recursive: true });
      writeFileSync(join(prefix, 'share', 'dummy_robot_bringup', 'launch', 'single_rrbot.urdf'), urdf);
    });
    it.each(['xml', 'yaml'])('.%s resolves with the package on AMENT_PREFIX_PATH', (ext) => {
      const r = resolveLaunch(join(DEMOS, `dummy_robot/dummy_robot_bringup/launch/dummy_robot_bringup_launch.${ext}`), {}, { env: { AMENT_PREFIX_PATH: prefix } });
      expect(r.nodes.map((n) => `${n.package}/${n.executable}`)).toEqual([
        'dummy_map_server/dummy_map_server',
        'robot_state_publisher/robot_state_publisher',
        'dummy_sensors/dummy_joint_states',
        'dummy_sensors/dummy_laser',
      ]);
      const rsp = r.nodes[1]!;
      expect(rsp.params.get('robot_description')).toMatchObject({ value: urdf, type: 'string' });
      expect(rsp.paramFiles[0]!.entries[0]!.nodeKey).toBe('/**');
    });
    it.each([['xml', 4], ['yaml', 11]])('.%s without it: a clear error at file:line', (ext, line) => {
      const e = launchErrorOf(() => resolveLaunch(join(DEMOS, `dummy_robot/dummy_robot_bringup/launch/dummy_robot_bringup_launch.${ext}`), {}, { env: {} }));
      expect(e.line).toBe(line);
      expect(e.message).toMatch(/package 'dummy_robot_bringup' not found .*AMENT_PREFIX_PATH/);
    });
  });

  it('launch_xml executable.xml: cmd, cwd, shell, env, timeouts, $(env ... default)', () => {
    const file = join(FX, 'launch/launch_xml/test/launch_xml/executable.xml');
    const r = resolveLaunch(file, {}, { env: {} });
    expect(r.nodes).toEqual([]);
    expect(r.executables).toEqual([{
      cmd: ['ls', '-l', '-a', '-s'], name: 'my_ls', cwd: '/', shell: true, output: 'log', env: { var: '1' }, unsetEnv: [],
      respawn: false, sigtermTimeoutS: 7, sigkillTimeoutS: 4, source: `${file}:2`,
    }]);
    expect(resolveLaunch(file, {}, { env: { LAUNCH_PREFIX: 'nice -n 5' } }).executables[0]!.launchPrefix).toBe('nice -n 5');
  });

  it.each([['xml', 2], ['yaml', 2]])('ros2_tracing example.launch.%s: the custom <trace> action is refused at file:line', (ext, line) => {
    const file = join(FX, `ros2_tracing/tracetools_launch/launch/example.launch.${ext}`);
    const e = launchErrorOf(() => resolveLaunch(file, {}, { env: {} }));
    expect(e.message).toBe(`${file}:${line}: unsupported action <trace> (supported: arg, let, group, push-ros-namespace, node, node-container, load-composable-node, include, executable, set-env, unset-env, set-parameter, set-remap, log)`);
  });
});

describe('launch constructs', () => {
  const tree = launchTree('kestrel-launch-');
  const { write } = tree;
  beforeAll(() => {
    write('p.yaml', '/**:\n  ros__parameters:\n    message: from_file\n    from_file_only: 7\n');
    write('inc.launch.yaml', [
      'launch:',
      '  - arg: {name: who}',
      '  - arg: {name: level, default: "2"}',
      '  - node:',
      '      pkg: kestrel',
      '      exec: talker',
      '      name: $(var who)_talker',
      '      namespace: /abs',
      '      param:',
      '        - {name: rate_hz, value: "$(eval \'$(var level) * 2.5\')"}',
      '        - {name: list, value: [1, 2, 3]}',
      '',
    ].join('\n'));
    write('main.launch.xml', `<launch>
  <arg name="robot" default="drone1" description="robot name"/>
  <arg name="use_cam" default="true"/>
  <let name="topic" value="/$(var robot)/image"/>
  <set_env name="KESTREL_TEST_VAR" value="42"/>
  <group>
    <push-ros-namespace namespace="$(var robot)"/>
    <node pkg="kestrel" exec="talker" name="talker" namespace="sensors" args="--foo 'a b'" ros_args="-p extra:=1 -r chatter:=/first">
      <param name="rate_hz" value="5.0"/>
      <param name="message" value="hi $(env KESTREL_TEST_VAR)"/>
      <param name="ints" value="1,2,3" sep=","/>
      <param name="nested"><param name="a" value="true"/></param>
      <param from="$(dirname)/p.yaml"/>
      <remap from="chatter" to="$(var topic)"/>
    </node>
    <node pkg="kestrel" exec="listener" if="$(var use_cam)"/>
    <node pkg="kestrel" exec="listener" name="never" unless="$(var use_cam)"/>
  </group>
  <node pkg="kestrel" exec="listener" name="top"/>
  <include file="inc.launch.yaml">
    <arg name="who" value="$(var robot)"/>
  </include>
  <log message="robot is $(var robot)"/>
</launch>
`);
  });

  const resolved = (args: Record<string, string> = {}): ResolvedLaunch => resolveLaunch(join(tree.dir, 'main.launch.xml'), args, { env: {}, defaultNodeName });

  it('names, namespaces, scoping, conditions', () => {
    const r = resolved();
    expect(r.nodes.map((n) => [n.fqn, n.name, n.namespace])).toEqual([
      ['/drone1/sensors/talker', 'talker', '/drone1/sensors'],
      ['/drone1/listener', undefined, '/drone1'],
      ['/top', 'top', undefined],
      ['/abs/drone1_talker', 'drone1_talker', '/abs'],
    ]);
    expect(r.logs).toEqual(['robot is drone1']);
    expect(resolved({ use_cam: 'false' }).nodes.map((n) => n.fqn)).toContain('/drone1/never');
  });

  it('parameters: typed inline values, sep lists, nested names, params files, ros_args; sources', () => {
    const t = resolved().nodes[0]!;
    expect(Object.fromEntries([...t.params].map(([k, o]) => [k, [o.value, o.type]]))).toEqual({
      extra: [1, 'int'],
      message: ['hi 42', 'string'],
      from_file_only: [7, 'int'],
      rate_hz: [5, 'double'],
      ints: [[1, 2, 3], 'int[]'],
      'nested.a': [true, 'bool'],
    });
    expect(t.params.get('rate_hz')!.source).toBe(`${join(tree.dir, 'main.launch.xml')}:9`);
    expect(t.params.get('from_file_only')!.source).toBe(`${join(tree.dir, 'p.yaml')}:4`);
    expect(t.args).toEqual(['--foo', 'a b']);
    expect(t.remaps).toEqual([{ from: 'chatter', to: '/first' }, { from: 'chatter', to: '/drone1/image' }]);
    expect(t.env).toEqual({ KESTREL_TEST_VAR: '42' });
    const inc = resolved().nodes[3]!;
    expect(inc.params.get('rate_hz')).toMatchObject({ value: 5, type: 'double' });
    expect(inc.params.get('list')).toMatchObject({ value: [1, 2, 3], type: 'int[]' });
  });

  it('inline <param>s apply after every <param from> file, wherever they are written (launch_ros)', () => {
    const f = write('order.launch.xml', '<launch>\n  <node pkg="kestrel" exec="talker" name="t">\n    <param name="message" value="inline"/>\n    <param from="p.yaml"/>\n  </node>\n</launch>');
    const n = resolveLaunch(f, {}, { env: {} }).nodes[0]!;
    expect(n.params.get('message')).toEqual({ value: 'inline', type: 'string', source: `${f}:3` });
    expect(n.paramFiles.map((p) => p.entries.map((e) => e.nodeKey))).toEqual([['/**'], ['/**']]);
  });

  it('the same launch written in YAML gives the same description (group with children:, nested param lists, env)', () => {
    write('main.launch.yaml', `launch:
  - arg: {name: robot, default: drone1, description: robot name}
  - arg: {name: use_cam, default: "true"}
  - let: {name: topic, value: /$(var robot)/image}
  - set_env: {name: KESTREL_TEST_VAR, value: "42"}
  - group:
      scoped: "true"
      children:
        - push-ros-namespace: {namespace: $(var robot)}
        - node:
            pkg: kestrel
            exec: talker
            name: talker
            namespace: sensors
            args: --foo 'a b'
            ros_args: -p extra:=1 -r chatter:=/first
            param:
              - {name: rate_hz, value: 5.0}
              - {name: message, value: hi $(env KESTREL_TEST_VAR)}
              - {name: ints, value: "1,2,3", sep: ","}
              - name: nested
                param:
                  - {name: a, value: "true"}
              - from: $(dirname)/p.yaml
            remap:
              - {from: chatter, to: $(var topic)}
        - node: {pkg: kestrel, exec: listener, if: $(var use_cam)}
        - node: {pkg: kestrel, exec: listener, name: never, unless: $(var use_cam)}
  - node: {pkg: kestrel, exec: listener, name: top}
  - include:
      file: inc.launch.yaml
      arg:
        - {name: who, value: $(var robot)}
  - log: {message: robot is $(var robot)}
  - executable:
      cmd: echo hi
      env:
        - {name: A, value: b}
`);
    const x = resolved();
    const y = resolveLaunch(join(tree.dir, 'main.launch.yaml'), {}, { env: {}, defaultNodeName });
    const strip = (r: ResolvedLaunch): unknown[] => r.nodes.map((n) => ({ ...summary(n), fqn: n.fqn, args: n.args, env: n.env, types: [...n.params.values()].map((o) => o.type) }));
    expect(strip(y)).toEqual(strip(x));
    expect(y.logs).toEqual(x.logs);
    expect(y.executables[0]).toMatchObject({ cmd: ['echo', 'hi'], env: { KESTREL_TEST_VAR: '42', A: 'b' } });
  });

  it('arguments: defaults, command line, include args', () => {
    const r = resolved({ robot: 'd2' });
    expect(r.nodes[0]!.fqn).toBe('/d2/sensors/talker');
    expect(r.nodes[3]!.fqn).toBe('/abs/d2_talker');
    const robot = r.args.find((a) => a.name === 'robot')!;
    expect(robot).toMatchObject({ value: 'd2', default: 'drone1', description: 'robot name', from: 'command line' });
    expect(r.args.find((a) => a.name === 'who')!.from).toBe(`${join(tree.dir, 'main.launch.xml')}:21`);
    expect(r.args.find((a) => a.name === 'level')).toMatchObject({ value: '2', from: 'default' });
  });

  it('find-pkg-share kestrel is the repository; eval refuses anything but literals and operators', () => {
    const f = write('pkg.launch.yaml', 'launch:\n  - let: {name: x, value: $(find-pkg-share kestrel)}\n  - log: {message: $(var x)}\n');
    expect(resolveLaunch(f, {}, { env: {} }).logs).toEqual([KESTREL_ROOT]);
    expect(evalPythonExpr("'a' == 'a' and 2 > 1")).toBe('True');
    expect(evalPythonExpr('10 / 4')).toBe('2.5');
    expect(() => evalPythonExpr("__import__('os').system('true')")).toThrow(/function '__import__' is not supported/);
  });

  it("parameter values as launch_ros types them: quoted text is the string inside, $(eval) results as Python prints them, int64 exact", () => {
    const f = write('vals.launch.xml', `<launch>
  <node pkg="kestrel" exec="talker" name="t">
    <param name="quoted" value="'5'"/>
    <param name="dquoted" value='"true"'/>
    <param name="plain" value="5"/>
    <param name="big" value="$(eval '2**62 + 1')"/>
    <param name="huge" value="$(eval '10**20')"/>
    <param name="tiny" value="$(eval '1/10**7')"/>
    <param name="repeated" value="$(eval '&quot;ab&quot; * 2')"/>
    <param name="bigs" value="1,9007199254740993" sep=","/>
  </node>
</launch>`);
    const n = resolveLaunch(f, {}, { env: {} }).nodes[0]!;
    const got = (k: string): unknown => ({ ...n.params.get(k)!, source: undefined });
    expect(got('quoted')).toEqual({ value: '5', type: 'string', source: undefined });
    expect(got('dquoted')).toEqual({ value: 'true', type: 'string', source: undefined });
    expect(got('plain')).toEqual({ value: 5, type: 'int', source: undefined });
    expect(got('big')).toEqual({ value: 2 ** 62, type: 'int', exact: 2n ** 62n + 1n, source: undefined });
    // Past int64, rcl's strtol fails and strtod reads it: a double.
    expect(got('huge')).toEqual({ value: 1e20, type: 'double', source: undefined });
    expect(got('tiny')).toEqual({ value: 1e-7, type: 'double', source: undefined });
    expect(got('repeated')).toEqual({ value: 'abab', type: 'string', source: undefined });
    expect(got('bigs')).toEqual({ value: [1, 9007199254740992], type: 'int[]', exact: [1n, 9007199254740993n], source: undefined });
  });

  it.each([
    ['unknown tag', '<launch>\n  <node pkg="kestrel" exec="talker"/>\n  <rosparam command="load"/>\n</launch>', /x\.launch\.xml:3: unsupported action <rosparam>/],
    ['unknown attribute', '<launch>\n  <node pkg="kestrel" exec="talker" colour="red"/>\n</launch>', /x\.launch\.xml:2: unsupported attribute 'colour' on <node>/],
    ['unknown child', '<launch>\n  <node pkg="kestrel" exec="talker">\n    <foo/>\n  </node>\n</launch>', /x\.launch\.xml:3: unsupported <foo> inside <node>/],
    ['bad XML', '<launch>\n  <node pkg="kestrel" exec="talker">\n</launch>', /x\.launch\.xml:3: invalid XML/],
    ['wrong root', '<robot/>', /x\.launch\.xml:1: root element is <robot>, expected <launch>/],
    ['missing required args, all listed', '<launch>\n  <arg name="a"/>\n  <arg name="b" description="bee"/>\n</launch>', /x\.launch\.xml: missing required launch arguments 'a' at line 2, 'b' \(bee\) at line 3; pass them as name:=value/],
    ['undefined variable', '<launch>\n  <log message="$(var nope)"/>\n</launch>', /x\.launch\.xml:2: <log>: launch configuration 'nope' does not exist/],
    ['unsupported substitution', '<launch>\n  <log message="$(command ls)"/>\n</launch>', /x\.launch\.xml:2: <log>: unsupported substitution '\$\(command\)'/],
    ['missing env', '<launch>\n  <log message="$(env KESTREL_SURELY_UNSET)"/>\n</launch>', /:2: <log>: environment variable 'KESTREL_SURELY_UNSET' does not exist/],
    ['bad condition', '<launch>\n  <node pkg="kestrel" exec="talker" if="maybe"/>\n</launch>', /:2: attribute 'if' of <node>: 'maybe' is not a boolean/],
    ['bad choice', '<launch>\n  <arg name="m" default="fast"><choice value="slow"/><choice value="safe"/></arg>\n</launch>', /:2: launch argument 'm' is 'fast', expected one of: slow, safe/],
    ['bad node name', '<launch>\n  <node pkg="kestrel" exec="talker" name="my-talker"/>\n</launch>', /:2: invalid node name 'my-talker'/],
    ['bad namespace', '<launch>\n  <node pkg="kestrel" exec="talker" namespace="/1drone"/>\n</launch>', /:2: invalid namespace '\/1drone'/],
    ['missing exec', '<launch>\n  <node pkg="kestrel"/>\n</launch>', /:2: <node> needs a 'exec' attribute/],
    ['missing python include', '<launch>\n  <include file="other.launch.py"/>\n</launch>', /:2: cannot read launch file .*other\.launch\.py' \(ENOENT\)/],
    ['missing include', '<launch>\n  <include file="nope.launch.xml"/>\n</launch>', /:2: cannot read launch file .*nope\.launch\.xml' \(ENOENT\)/],
    ['bad params file', '<launch>\n  <node pkg="kestrel" exec="talker">\n    <param from="bad.yaml"/>\n  </node>\n</launch>', /x\.launch\.xml:3: params file: .*bad\.yaml:2: 'a' has a value but no 'ros__parameters'/],
  ])('%s → LaunchError with file:line', (_what, text, re) => {
    write('bad.yaml', 'n:\n  a: 1\n');
    const f = write('x.launch.xml', text);
    expect(launchErrorOf(() => resolveLaunch(f, {}, { env: {} })).message).toMatch(re);
  });

  it('YAML errors carry lines too', () => {
    const f = write('y.launch.yaml', 'launch:\n  - node:\n      pkg: kestrel\n     exec: talker\n');
    expect(launchErrorOf(() => resolveLaunch(f, {}, { env: {} })).message).toMatch(/y\.launch\.yaml:\d+: invalid YAML/);
    const g = write('z.launch.yaml', 'launch:\n  - node: {pkg: kestrel, exec: talker}\n  - rosparam: {}\n');
    expect(launchErrorOf(() => resolveLaunch(g, {}, { env: {} })).message).toMatch(/z\.launch\.yaml:3: unsupported action <rosparam>/);
    const h = write('w.launch.yaml', 'nodes: []\n');
    expect(launchErrorOf(() => resolveLaunch(h, {}, { env: {} })).message).toMatch(/w\.launch\.yaml:1: expected a single top-level key 'launch:'/);
  });

  it('include cycles and missing include arguments are named', () => {
    write('a.launch.xml', '<launch>\n  <include file="b.launch.xml"/>\n</launch>');
    write('b.launch.xml', '<launch>\n  <include file="a.launch.xml"/>\n</launch>');
    const e = launchErrorOf(() => resolveLaunch(join(tree.dir, 'a.launch.xml'), {}, { env: {} }));
    expect(e.message).toMatch(/b\.launch\.xml:2: include cycle: .*a\.launch\.xml -> .*b\.launch\.xml -> .*a\.launch\.xml/);
    const f = write('c.launch.xml', '<launch>\n  <include file="inc.launch.yaml"/>\n</launch>');
    expect(launchErrorOf(() => resolveLaunch(f, {}, { env: {} })).message).toMatch(/c\.launch\.xml:2: included file .*inc\.launch\.yaml: missing required launch argument 'who' at line 2/);
  });

  it('a .launch.py file is evaluated with python3 (python.test.ts has the rest): one without generate_launch_description() is named', () => {
    const f = write('x.launch.py', 'from launch import LaunchDescription\n');
    expect(() => resolveLaunch(f)).toThrow(/x\.launch\.py: (no generate_launch_description\(\) function|python3 not found)/);
  });

  it('the top file given as source text (no file read): errors name the file, $(dirname) is its folder, includes are read', () => {
    const inc = write('inc-src.launch.xml', '<launch><log message="included"/></launch>');
    const top = join(tree.dir, 'nowhere', 'top.launch.xml');
    const r = resolveLaunch(top, {}, { source: `<launch><log message="$(dirname)"/><include file="${inc}"/></launch>` });
    expect(r.logs).toEqual([join(tree.dir, 'nowhere'), 'included']);
    expect(r.files[0]).toBe(top);
    expect(() => resolveLaunch(top, {}, { source: '<launch>\n<bogus/></launch>' })).toThrow(/top\.launch\.xml:2/);
    expect(resolveLaunch(join(tree.dir, 'x.launch.yaml'), {}, { source: 'launch:\n  - log: { message: yaml }\n' }).logs).toEqual(['yaml']);
    expect(() => resolveLaunch(join(tree.dir, 'y.launch.py'), {}, { source: 'x' })).toThrow(/y\.launch\.py: .*cannot be given as source text/);
  });

  it('an unclosed quote in ros_args, args or cmd is a LaunchError at its file:line (found by npm run fuzz)', () => {
    const f = join(tree.dir, 'q.launch.xml');
    const node = (attrs: string): string => `<launch>\n<node pkg="kestrel" exec="arbiter" name="a" ${attrs}/>\n</launch>`;
    expect(() => resolveLaunch(f, {}, { source: node(`ros_args="-p 'max_age_ms:=250"`) })).toThrow(/q\.launch\.xml:2: ros_args: unclosed quote/);
    expect(() => resolveLaunch(f, {}, { source: node(`args="--x 'y"`) })).toThrow(/q\.launch\.xml:2: args: unclosed quote/);
    expect(() => resolveLaunch(f, {}, { source: `<launch>\n\n<executable cmd="echo 'hi"/>\n</launch>` })).toThrow(/q\.launch\.xml:3: cmd: unclosed quote/);
    expect(() => resolveLaunch(f, {}, { source: node(`ros_args="-p 'max_age_ms:=250"`) })).toThrow(LaunchError);
  });
});
