import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseSocket, introspectionDir, liveSockets } from './discovery.js';
import { hzStats, parseRequest, toJsonSafe } from './protocol.js';

describe('introspection protocol', () => {
  it('parses requests, naming the field that is wrong', () => {
    expect(parseRequest('{"id":3,"op":"param.set","node":"/a","name":"x","value":"1"}')).toEqual({ id: 3, op: 'param.set', node: '/a', name: 'x', value: '1' });
    expect(parseRequest('{"id":1,"op":"topic.echo","topic":"/a"}')).toEqual({ id: 1, op: 'topic.echo', topic: '/a', fullArrays: false });
    expect(() => parseRequest('nope')).toThrow(/^request is not JSON/);
    expect(() => parseRequest('[1]')).toThrow('request must be a JSON object');
    expect(() => parseRequest('{"op":"hello"}')).toThrow("field 'id': expected an integer, got undefined");
    expect(() => parseRequest('{"id":1,"op":"frob"}')).toThrow(/^field 'op': expected one of hello, topic.list, .*, got "frob"$/);
    expect(() => parseRequest('{"id":1,"op":"topic.info"}')).toThrow("topic.info: field 'topic': expected a string, got nothing");
    expect(() => parseRequest('{"id":1,"op":"topic.echo","topic":"/a","fullArrays":1}')).toThrow("topic.echo: field 'fullArrays': expected a boolean, got 1");
  });

  it('makes messages JSON-safe: long typed arrays summarised, bigints and non-finite numbers as strings', () => {
    const msg = { data: new Uint8Array(1000), small: new Float32Array([1.5, 2]), n: 10n, bad: [NaN, Infinity, -Infinity], nested: { v: [1, 2] } };
    expect(toJsonSafe(msg)).toEqual({ data: '<uint8[1000]>', small: [1.5, 2], n: '10', bad: ['nan', 'inf', '-inf'], nested: { v: [1, 2] } });
    expect((toJsonSafe(msg, true) as { data: number[] }).data).toHaveLength(1000);
  });

  it('hz statistics over arrival times', () => {
    expect(hzStats([0])).toBeUndefined();
    const s = hzStats([0, 100, 300])!;
    expect(s.rate).toBeCloseTo(1 / 0.15);
    expect(s).toMatchObject({ min: 0.1, max: 0.2, window: 2 });
    expect(s.std).toBeCloseTo(0.05);
  });
});

describe('introspection discovery', () => {
  it('the folder: KESTREL_RUNTIME_DIR, else XDG_RUNTIME_DIR/kestrel, else tmp', () => {
    expect(introspectionDir({ KESTREL_RUNTIME_DIR: '/x', XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/x');
    expect(introspectionDir({ XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/run/user/1/kestrel');
    expect(introspectionDir({})).toMatch(/kestrel-\d+$/);
  });

  it("a dead process's socket is removed; none or several live ones need --pid", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-disc-'));
    expect(() => chooseSocket(dir)).toThrow(`no running Kestrel found (no <pid>.sock in ${dir}; 'kestrel launch' and 'kestrel start' create one)`);
    const stale = join(dir, '999999999.sock');
    closeSync(openSync(stale, 'w'));
    for (const pid of [process.pid, process.ppid]) closeSync(openSync(join(dir, `${pid}.sock`), 'w'));
    expect(liveSockets(dir).map((s) => s.pid)).toEqual([process.pid, process.ppid].sort((a, b) => a - b));
    expect(existsSync(stale)).toBe(false);
    expect(() => chooseSocket(dir)).toThrow(/^2 Kestrel processes are running \(pids \d+, \d+\): choose one with --pid$/);
    expect(chooseSocket(dir, process.pid).socket).toBe(join(dir, `${process.pid}.sock`));
  });
});
