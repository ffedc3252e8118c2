import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { talker } from '../nodes/demo/talker.js';
import { COMMON_PARAMS, ParamError, resolveParams } from './params.js';
import { describeFixtures, fixture } from '../test/support/fixtures.js';
import { loadParamsFile, nodeKeyMatches, paramsForNode, ParamsFileError, parseParamsYaml, typePlainScalar, type ParamsFile } from './params-file.js';

const FX = fixture();
const LR = join(FX, 'launch_ros/test_launch_ros/test/test_launch_ros');

/** name → [value, type] for compact comparison. */
function vals(files: ParamsFile | ParamsFile[], fqn: string): Record<string, [unknown, string]> {
  const m = paramsForNode(Array.isArray(files) ? files : [files], fqn);
  return Object.fromEntries([...m].map(([k, o]) => [k, [o.value, o.type]]));
}

describeFixtures('params files from ROS 2 repositories', ['demos', 'launch_ros', 'rosbag2', 'teleop_twist_joy'], () => {
  it('demo_nodes_py params.yaml', () => {
    const f = loadParamsFile(join(FX, 'demos/demo_nodes_py/demo_nodes_py/parameters/params.yaml'));
    expect(vals(f, '/param_test_target')).toEqual({
      other_int_parameter: [0, 'int'],
      int_parameter: [12, 'int'],
      string_parameter: ['I smell the blood of an Englishman', 'string'],
      other_string_parameter: ['One fish, two fish, Red fish, blue fish', 'string'],
      bool_parameter: [false, 'bool'],
    });
    expect(vals(f, '/other')).toEqual({});
    expect(paramsForNode([f], '/param_test_target').get('int_parameter')!.source).toMatch(/params\.yaml:4$/);
  });

  it('quality_of_service_demo qos overrides, per node and with /** wildcard', () => {
    const f = loadParamsFile(join(FX, 'demos/quality_of_service_demo/rclcpp/params_file/example_qos_overrides.yaml'));
    expect(vals(f, '/qos_overrides_talker')).toEqual({
      'qos_overrides./qos_overrides_chatter.publisher.reliability': ['reliable', 'string'],
      'qos_overrides./qos_overrides_chatter.publisher.depth': [9, 'int'],
    });
    expect(vals(f, '/qos_overrides_listener')).toEqual({
      'qos_overrides./qos_overrides_chatter.subscription.reliability': ['reliable', 'string'],
      'qos_overrides./qos_overrides_chatter.subscription.depth': [9, 'int'],
    });
    const w = loadParamsFile(join(FX, 'demos/quality_of_service_demo/rclcpp/params_file/example_qos_overrides_with_wildcard.yaml'));
    expect(Object.keys(vals(w, '/any/node/at/all'))).toHaveLength(4);
  });

  it('launch_ros example_parameters_*: nested namespaces, lists, wildcards, multiple entries', () => {
    const p0 = loadParamsFile(join(LR, 'actions/example_parameters_0.yaml'));
    expect(vals(p0, '/my_ns/my_node')).toEqual({
      some_int: [42, 'int'],
      a_string: ['Hello world', 'string'],
      no_string: ['', 'string'],
      'some_list.sub_list.some_integers': [[1, 2, 3, 4], 'int[]'],
      'some_list.sub_list.some_doubles': [[3.14, 2.718], 'double[]'],
    });
    expect(vals(p0, '/my_node')).toEqual({});

    const p1 = loadParamsFile(join(LR, 'actions/example_parameters_1.yaml'));
    expect(vals(p1, '/my_ns/my_node')).toEqual({ param_1_name: [10, 'int'], param_2_name: [20, 'int'] });
    expect(vals(p1, '/my_ns/my_other_node')).toEqual({ param_1_name: [10, 'int'], param_3_name: [30, 'int'] });
    expect(vals(p1, '/elsewhere')).toEqual({ param_1_name: [10, 'int'] });

    const me = loadParamsFile(join(LR, 'actions/example_parameters_multiple_entries.yaml'));
    // Keys apply in file order: /ns_1/node_1, then /**, then ns_2/node_2.
    expect(vals(me, '/ns_1/node_1')).toEqual({ param_1: [1, 'int'], param_2: [22, 'int'], param_3: [33, 'int'] });
    expect(vals(me, '/ns_2/node_2')).toEqual({ param_2: [22, 'int'], param_3: [3, 'int'] });

    const mn = loadParamsFile(join(LR, 'actions/example_parameters_multiple_nodes.yaml'));
    expect(vals(mn, '/ns_1/node_1')).toEqual({ param_1: [11, 'int'], param_2: [22, 'int'] });
    expect(vals(mn, '/ns_1/node_2')).toEqual({ param_3: [33, 'int'], param_4: [44, 'int'] });

    expect(vals(loadParamsFile(join(LR, 'actions/example_parameters_namespace.yaml')), '/ns/test_node_name')).toEqual({ param: [1, 'int'] });
    expect(vals(loadParamsFile(join(LR, 'actions/example_parameters_namespace.yaml')), '/test_node_name')).toEqual({});
    expect(vals(loadParamsFile(join(LR, 'actions/example_parameters_no_namespace.yaml')), '/test_node_name')).toEqual({ param: [2, 'int'] });
    expect(vals(loadParamsFile(join(LR, 'actions/example_parameters_wildcard.yaml')), '/a/b')).toEqual({ param: ['wildcard', 'string'] });
    expect(vals(loadParamsFile(join(LR, 'frontend/params.yaml')), '/my_ns/my_node')).toEqual({
      param_from_file_1: [1, 'int'],
      param_from_file_2: ['asd', 'string'],
    });
  });

  it('a file without ros__parameters is refused with file:line', () => {
    expect(() => loadParamsFile(join(LR, 'actions/example_parameters_no_name.yaml'))).toThrow(/example_parameters_no_name\.yaml:1: 'some_int' has a value but no 'ros__parameters'/);
    expect(() => loadParamsFile(join(FX, 'rosbag2/rosbag2_transport/test/resources/qos_profile_overrides.yaml'))).toThrow(ParamsFileError);
  });

  it('teleop_twist_joy configs: nested maps become dotted names, ints stay ints', () => {
    for (const pad of ['atk3', 'ps3', 'ps3-holonomic', 'xbox', 'xd3']) {
      const v = vals(loadParamsFile(join(FX, `teleop_twist_joy/config/${pad}.config.yaml`)), '/teleop_twist_joy_node');
      expect(v['axis_linear.x']).toEqual([1, 'int']);
      expect(v['scale_linear.x']![1]).toBe('double');
      expect(v['axis_angular.yaw']![1]).toBe('int');
      expect(v.enable_button![1]).toBe('int');
      expect(v.enable_turbo_button![1]).toBe('int');
    }
    const xd3 = vals(loadParamsFile(join(FX, 'teleop_twist_joy/config/xd3.config.yaml')), '/teleop_twist_joy_node');
    expect(xd3).toEqual({
      'axis_linear.x': [1, 'int'],
      'scale_linear.x': [0.7, 'double'],
      'scale_linear_turbo.x': [1.5, 'double'],
      'axis_angular.yaw': [2, 'int'],
      'scale_angular.yaw': [0.4, 'double'],
      enable_button: [0, 'int'],
      enable_turbo_button: [1, 'int'],
    });
    const holo = vals(loadParamsFile(join(FX, 'teleop_twist_joy/config/ps3-holonomic.config.yaml')), '/teleop_twist_joy_node');
    expect(holo['scale_linear.y']).toEqual([0.4, 'double']);
    expect(holo['scale_linear_turbo.x']).toBeUndefined();
  });

  it('rosbag2_transport player and recorder params', () => {
    const play = vals(loadParamsFile(join(FX, 'rosbag2/rosbag2_transport/test/resources/player_node_params.yaml')), '/player_params_node');
    expect(play['play.read_ahead_queue_size']).toEqual([3, 'int']);
    expect(play['play.rate']).toEqual([13, 'double']);
    expect(play['play.topics_to_filter']).toEqual([['/foo', '/bar'], 'string[]']);
    expect(play['play.regex_to_filter']).toEqual(['[xyz]/topic_service', 'string']);
    expect(play['play.loop']).toEqual([false, 'bool']);
    expect(play['play.delay.nsec']).toEqual([1, 'int']);
    expect(play['play.playback_duration.nsec']).toEqual([0, 'int']); // `00000000`
    expect(play['play.playback_until_timestamp.nsec']).toEqual([-500000000, 'int']);
    expect(play['play.wait_acked_timeout.nsec']).toEqual([-999999999, 'int']);
    expect(play['storage.storage_config_uri']).toEqual(['', 'string']);
    expect(play['storage.custom_data']).toEqual([['key1=value1', 'key2=value2'], 'string[]']);
    expect(Object.keys(play)).toHaveLength(37);

    const rec = vals(loadParamsFile(join(FX, 'rosbag2/rosbag2_transport/test/resources/recorder_node_params.yaml')), '/recorder_params_node');
    expect(rec.use_sim_time).toEqual([false, 'bool']);
    expect(rec['record.topics']).toEqual([['topic', 'other_topic'], 'string[]']);
    expect(rec['record.topic_polling_interval.nsec']).toEqual([10000000, 'int']);
    expect(rec['record.compression_threads_priority']).toEqual([-1, 'int']);
    expect(rec['storage.max_bagfile_size']).toEqual([2147483646, 'int']);
    expect(rec['storage.end_time_ns']).toEqual([100000, 'int']);
  });
});

describe('rcl scalar typing', () => {
  it.each([
    ['true', true, 'bool'], ['Yes', true, 'bool'], ['on', true, 'bool'], ['y', true, 'bool'], ['OFF', false, 'bool'], ['n', false, 'bool'],
    ['42', 42, 'int'], ['-7', -7, 'int'], ['0x1F', 31, 'int'], ['010', 8, 'int'], ['0', 0, 'int'],
    ['1.0', 1, 'double'], ['1e3', 1000, 'double'], ['.5', 0.5, 'double'], ['-.inf', -Infinity, 'double'],
    ['hello', 'hello', 'string'], ['1.2.3', '1.2.3', 'string'], ['null', 'null', 'string'], ['~', '~', 'string'],
  ] as const)('%s → %s (%s)', (text, value, type) => {
    expect(typePlainScalar(text)).toEqual({ value, type });
  });

  it('quoted scalars are strings, nan is a double, big ints fall to double', () => {
    const f = parseParamsYaml('n:\n  ros__parameters:\n    a: "1"\n    b: \'true\'\n    c: .nan\n    d: 99999999999999999999\n', 't.yaml');
    const v = vals(f, '/n');
    expect(v.a).toEqual(['1', 'string']);
    expect(v.b).toEqual(['true', 'string']);
    expect(v.c![1]).toBe('double');
    expect(Number.isNaN(v.c![0])).toBe(true);
    expect(v.d).toEqual([1e20, 'double']);
  });

  it('int64 values past ±2^53 keep their exact value beside the nearest double', () => {
    const f = parseParamsYaml('n:\n  ros__parameters:\n    a: 9223372036854775807\n    b: [1, -9007199254740993]\n    c: 9007199254740991\n', 't.yaml');
    const [a, b, c] = ['a', 'b', 'c'].map((k) => f.entries[0]!.params.get(k)!);
    expect(a).toMatchObject({ type: 'int', value: 2 ** 63, exact: 9223372036854775807n });
    expect(b).toMatchObject({ type: 'int[]', exact: [1n, -9007199254740993n] });
    expect(c).not.toHaveProperty('exact');
    expect(typePlainScalar('-9223372036854775808')).toEqual({ type: 'int', value: -(2 ** 63), exact: -(2n ** 63n) });
  });
});

describe('params file errors', () => {
  const bad = (src: string): string => {
    try {
      parseParamsYaml(src, 'bad.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ParamsFileError);
      return (e as Error).message;
    }
    throw new Error('expected an error');
  };
  it('names file and line', () => {
    expect(bad('n:\n  ros__parameters:\n    a: [1,\n  b')).toMatch(/^bad\.yaml:\d+: invalid YAML/);
    expect(bad('n:\n  ros__parameters:\n    a: [1, 2.5]\n')).toBe("bad.yaml:3: parameter 'a': array elements must all have one type; element 1 is double (2.5), element 0 is int");
    expect(bad('n:\n  ros__parameters:\n    a: [[1], [2]]\n')).toMatch(/^bad\.yaml:3: parameter 'a': arrays must contain scalars only/);
    expect(bad('n:\n  ros__parameters:\n    a: &x 1\n    b: *x\n')).toMatch(/^bad\.yaml:4: parameter 'b': YAML aliases are not supported/);
    expect(bad('n:\n  ros__parameters:\n    a:\n')).toMatch(/^bad\.yaml:3: .*no value/);
    expect(bad('ros__parameters:\n  a: 1\n')).toMatch(/^bad\.yaml:1: 'ros__parameters' needs a node name/);
    expect(bad('n:\n  ros__parameters:\n    a: 1\n    a: 2\n')).toMatch(/^bad\.yaml:4: invalid YAML: Map keys must be unique/);
    expect(bad('- a\n- b\n')).toMatch(/^bad\.yaml:1: expected a map of node names/);
    expect(() => loadParamsFile('/nonexistent/x.yaml')).toThrow("/nonexistent/x.yaml: cannot read params file: ENOENT");
  });

  it('a value of the wrong type for a declared parameter is a ParamError naming file:line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-params-'));
    const file = join(dir, 'talker.yaml');
    writeFileSync(file, '/**:\n  ros__parameters:\n    rate_hz: fast\n');
    const overrides = paramsForNode([loadParamsFile(file)], '/talker');
    expect(() => resolveParams('/talker', { ...COMMON_PARAMS, ...talker.params }, overrides)).toThrow(ParamError);
    expect(() => resolveParams('/talker', { ...COMMON_PARAMS, ...talker.params }, overrides)).toThrow(`${file}:3: parameter 'rate_hz' of node '/talker': expected double, got string ("fast")`);
    writeFileSync(file, '/**:\n  ros__parameters:\n    rate_hz: 5000\n');
    expect(() => resolveParams('/talker', talker.params, paramsForNode([loadParamsFile(file)], '/talker'))).toThrow(/:3: parameter 'rate_hz' .* above the maximum 1000/);
  });
});

describe('matching and precedence (rcl + rclcpp rules)', () => {
  it('node keys: plain, absolute, namespaced, /* and /** wildcards', () => {
    expect(nodeKeyMatches('node', '/node')).toBe(true);
    expect(nodeKeyMatches('node', '/ns/node')).toBe(false);
    expect(nodeKeyMatches('/ns/node', '/ns/node')).toBe(true);
    expect(nodeKeyMatches('ns/node', '/ns/node')).toBe(true);
    expect(nodeKeyMatches('/**', '/a/b/c')).toBe(true);
    expect(nodeKeyMatches('/*', '/a')).toBe(true);
    expect(nodeKeyMatches('/*', '/a/b')).toBe(false);
    expect(nodeKeyMatches('/**/node', '/a/b/node')).toBe(true);
    expect(nodeKeyMatches('/**/node', '/node')).toBe(true);
    expect(nodeKeyMatches('/**/node', '/a/other')).toBe(false);
    expect(nodeKeyMatches('/ns/*', '/ns/x')).toBe(true);
    expect(nodeKeyMatches('/ns/*', '/other/x')).toBe(false);
  });

  it('later files update a node key in place; keys apply in order of first appearance', () => {
    const a = parseParamsYaml('/n:\n  ros__parameters:\n    x: 1\n/**:\n  ros__parameters:\n    x: 2\n    y: 2\n', 'a.yaml');
    const b = parseParamsYaml('/n:\n  ros__parameters:\n    x: 3\n    z: 3\n', 'b.yaml');
    // rcl merges both files into one table: /n (x=3, z=3) comes before /** (x=2), so /** wins for x.
    expect(vals([a, b], '/n')).toEqual({ x: [2, 'int'], y: [2, 'int'], z: [3, 'int'] });
    expect(paramsForNode([a, b], '/n').get('z')!.source).toBe('b.yaml:4');
    const c = parseParamsYaml('/**:\n  ros__parameters:\n    x: 5\n', 'c.yaml');
    const d = parseParamsYaml('/n:\n  ros__parameters:\n    x: 6\n', 'd.yaml');
    expect(vals([c, d], '/n').x).toEqual([6, 'int']);
    expect(vals([d, c], '/n').x).toEqual([5, 'int']);
  });
});
