import { describe, expect, it } from 'vitest';
import { describeParams, inferParamType, p, ParamError, resolveParams, type ParamOverride, type ParamValue } from './params.js';

const decls = {
  rate_hz: p.double(20, 'tick rate', { min: 1, max: 500 }),
  threads: p.int(1, 'threads', { min: 1 }),
  mode: p.string('hold', 'mode', ['hold', 'hover', 'patrol']),
  fence: p.doubleArray([], 'polygon'),
  actions: p.stringArray(['hold'], 'actions', ['hold', 'goto', 'land']),
  enabled: p.bool(true, 'on'),
  regions: p.group('double[]', 'named polygons'),
};

const ov = (entries: Record<string, [ParamValue, ParamOverride['type']?]>): Map<string, ParamOverride> =>
  new Map(Object.entries(entries).map(([k, [value, type]]) => [k, { value, type: type ?? inferParamType(value), source: 'config/test.yaml:3' }]));

describe('resolveParams', () => {
  it('fills defaults, applies overrides, copies array defaults', () => {
    const { values, unknown } = resolveParams('/arbiter', decls, ov({ rate_hz: [50], mode: ['patrol'], 'regions.queue': [[0, 0, 1, 0, 1, 1]] }));
    expect(values).toMatchObject({ rate_hz: 50, threads: 1, mode: 'patrol', enabled: true, regions: { queue: [0, 0, 1, 0, 1, 1] } });
    expect(unknown).toEqual([]);
    const again = resolveParams('/arbiter', decls, new Map());
    expect(again.values.actions).not.toBe(decls.actions.default);
  });

  it('widens int to double like users expect, but never double to int', () => {
    expect(resolveParams('/n', decls, ov({ rate_hz: [20, 'int'] })).values.rate_hz).toBe(20);
    expect(() => resolveParams('/n', decls, ov({ threads: [1.5, 'double'] }))).toThrow(ParamError);
    expect(resolveParams('/n', decls, ov({ fence: [[1, 2, 3, 4, 5, 6], 'int[]'] })).values.fence).toEqual([1, 2, 3, 4, 5, 6]);
    expect(resolveParams('/n', decls, ov({ fence: [[], 'string[]'] })).values.fence).toEqual([]);
  });

  it('errors name the source, the node, the key and what was expected', () => {
    expect(() => resolveParams('/arbiter', decls, ov({ rate_hz: ['fast'] }))).toThrow("config/test.yaml:3: parameter 'rate_hz' of node '/arbiter': expected double, got string (\"fast\")");
    expect(() => resolveParams('/a', decls, ov({ rate_hz: [1000] }))).toThrow(/1000 is above the maximum 500/);
    expect(() => resolveParams('/a', decls, ov({ threads: [0] }))).toThrow(/0 is below the minimum 1/);
    expect(() => resolveParams('/a', decls, ov({ mode: ['fly'] }))).toThrow(/'fly' is not one of hold, hover, patrol/);
    expect(() => resolveParams('/a', decls, ov({ actions: [['hold', 'arm']] }))).toThrow(/'arm' is not one of/);
    expect(() => resolveParams('/a', decls, ov({ rate_hz: [Number.NaN, 'double'] }))).toThrow(/finite/);
  });

  it('an int past ±2^53 is refused for an int parameter (it would be rounded), and widens to a double parameter', () => {
    const big = new Map<string, ParamOverride>([['threads', { value: 2 ** 62, type: 'int', exact: 2n ** 62n + 1n, source: 'x.yaml:2' }]]);
    expect(() => resolveParams('/a', decls, big)).toThrow("x.yaml:2: parameter 'threads' of node '/a': 4611686018427387905 is beyond ±2^53, which a Kestrel int parameter cannot hold exactly");
    const wide = new Map<string, ParamOverride>([['rate_hz', { value: 2 ** 62, type: 'int', exact: 2n ** 62n + 1n, source: 'x.yaml:2' }]]);
    expect(() => resolveParams('/a', decls, wide)).toThrow(/above the maximum 500/);
  });

  it('reports undeclared keys instead of failing (shared /** params files), except common ones', () => {
    const { unknown } = resolveParams('/a', decls, ov({ bogus: [1], use_sim_time: [true] }));
    expect(unknown).toEqual(['bogus']);
  });

  it('infers ROS 2 types from plain values', () => {
    expect(inferParamType(1)).toBe('int');
    expect(inferParamType(1, true)).toBe('double');
    expect(inferParamType(1.5)).toBe('double');
    expect(inferParamType([1, 2])).toBe('int[]');
    expect(inferParamType([1, 2.5])).toBe('double[]');
    expect(inferParamType(['a'])).toBe('string[]');
    expect(inferParamType([true])).toBe('bool[]');
    expect(inferParamType([])).toBe('string[]');
  });

  it('describes declarations for `kestrel params`', () => {
    const lines = describeParams(decls);
    expect(lines[0]).toBe('rate_hz (double [1, 500]) = 20: tick rate');
    expect(lines.find((l) => l.startsWith('regions'))).toBe('regions (double[] map) = regions.<name>: named polygons');
  });
});

describe('literal types for choices', () => {
  it('a string parameter with choices has their union as its type; its default must be one of them', () => {
    const d = { mode: p.string('hold', 'mode', ['hold', 'hover']), name: p.string('x', 'free text'), eps: p.stringArray(['cpu'], 'providers', ['cpu', 'cuda']) };
    const { values } = resolveParams('/n', d, new Map([['mode', { value: 'hover', type: 'string', source: 'test' }]]));
    const mode: 'hold' | 'hover' = values.mode;
    const eps: ('cpu' | 'cuda')[] = values.eps;
    const name: string = values.name;
    expect([mode, eps, name]).toEqual(['hover', ['cpu'], 'x']);
    // @ts-expect-error 'patrol' is not a choice
    expect(values.mode === 'patrol').toBe(false);
    // @ts-expect-error the default must be one of the choices
    expect(() => p.string('land', 'mode', ['hold', 'hover'])).not.toThrow();
  });
});
