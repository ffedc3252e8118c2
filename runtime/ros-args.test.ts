import { describe, expect, it } from 'vitest';
import { paramsForNode } from './params-file.js';
import { extractRosArgs, parseRosArgs, RosArgsError } from './ros-args.js';
import { fixture, itFixtures } from '../test/support/fixtures.js';


function pvals(argv: string[], fqn = '/n'): Record<string, [unknown, string]> {
  return Object.fromEntries([...paramsForNode(parseRosArgs(argv).params, fqn)].map(([k, o]) => [k, [o.value, o.type]]));
}

describe('parseRosArgs', () => {
  it('types -p values like rcl: int, double, bool, string, arrays', () => {
    expect(pvals(['--ros-args', '-p', 'i:=1', '-p', 'd:=1.0', '--param', 'b:=true', '-p', 's:=hello', '-p', 'q:="1"', '-p', 'a:=[1, 2]', '-p', 'f:=[1.5, 2.0]', '-p', 'e:=[]', '-p', 'w:=yes'])).toEqual({
      i: [1, 'int'],
      d: [1, 'double'],
      b: [true, 'bool'],
      s: ['hello', 'string'],
      q: ['1', 'string'],
      a: [[1, 2], 'int[]'],
      f: [[1.5, 2], 'double[]'],
      e: [[], 'string[]'],
      w: [true, 'bool'],
    });
  });

  it('node-scoped -p applies to that node name only; -p source is the command line', () => {
    const args = parseRosArgs(['-p', 'talker:rate:=5', '-p', 'x:=1']);
    expect([...paramsForNode(args.params, '/talker').keys()].sort()).toEqual(['rate', 'x']);
    expect([...paramsForNode(args.params, '/listener').keys()]).toEqual(['x']);
    expect(paramsForNode(args.params, '/talker').get('rate')!.source).toBe('--ros-args -p talker:rate:=5');
  });

  it('remaps, node name and namespace, log levels, enclave; stops at --', () => {
    const r = parseRosArgs(['--ros-args', '-r', 'chatter:=/talk', '--remap', 'talker:image:=/cam/image', '-r', '__node:=my_talker', '-r', '__ns:=/drone1', '--log-level', 'DEBUG', '--log-level', 'talker:=warn', '-e', '/enc', '--disable-stdout-logs', '--', '-p', 'ignored:=1']);
    expect(r.remaps).toEqual([
      { from: 'chatter', to: '/talk' },
      { from: 'image', to: '/cam/image', node: 'talker' },
      { from: '__node', to: 'my_talker' },
      { from: '__ns', to: '/drone1' },
    ]);
    expect(r.nodeName).toBe('my_talker');
    expect(r.namespace).toBe('/drone1');
    expect(r.logLevels).toEqual([{ level: 'debug' }, { logger: 'talker', level: 'warn' }]);
    expect(r.enclave).toBe('/enc');
    expect(r.logging).toEqual(['--disable-stdout-logs']);
    expect(r.params).toEqual([]);
  });

  const WILDCARD = 'launch_ros/test_launch_ros/test/test_launch_ros/actions/example_parameters_wildcard.yaml';
  itFixtures('--params-file and -p merge in command-line order like rcl', WILDCARD, () => {
    const file = fixture(WILDCARD);
    expect(pvals(['--params-file', file, '-p', 'param:=cli'])).toEqual({ param: ['cli', 'string'] });
    expect(pvals(['-p', 'param:=cli', '--params-file', file])).toEqual({ param: ['wildcard', 'string'] });
  });

  it('rejects unknown flags and malformed rules with a clear message', () => {
    expect(() => parseRosArgs(['--bogus'])).toThrow(/--ros-args: unknown argument '--bogus'/);
    expect(() => parseRosArgs(['-p', 'novalue'])).toThrow("--ros-args: -p 'novalue': expected [node:]name:=value");
    expect(() => parseRosArgs(['-p'])).toThrow('--ros-args: -p needs an argument');
    expect(() => parseRosArgs(['-p', 'x:=[1, 2.5]'])).toThrow(/-p x:=\[1, 2.5\]: parameter 'x': array elements must all have one type/);
    expect(() => parseRosArgs(['-p', 'x:={a: 1}'])).toThrow(/is a map; expected a scalar or a list/);
    expect(() => parseRosArgs(['-r', '__ns:=relative'])).toThrow(/namespace must be absolute/);
    expect(() => parseRosArgs(['-r', '__foo:=x'])).toThrow(/unknown special remap '__foo'/);
    expect(() => parseRosArgs(['--log-level', 'loud'])).toThrow(/level must be one of/);
    expect(() => parseRosArgs(['--params-file', '/nonexistent.yaml'])).toThrow(/nonexistent\.yaml: cannot read params file/);
    expect(() => parseRosArgs(['-r', 'a:='])).toThrow(RosArgsError);
  });

  it('extractRosArgs separates program args from one or more --ros-args sections', () => {
    const { rest, ros } = extractRosArgs(['talker', '--ros-args', '-p', 'a:=1', '--', 'positional', '--ros-args', '-r', 'x:=y']);
    expect(rest).toEqual(['talker', 'positional']);
    expect(ros.remaps).toEqual([{ from: 'x', to: 'y' }]);
    expect(ros.params).toHaveLength(1);
  });
});
