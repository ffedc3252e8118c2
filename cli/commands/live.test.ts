/**
 * The live commands against a real running Kestrel: `kestrel launch` of the demo in a child process, asked over its
 * real introspection socket by the same `main` the bin runs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../command.js';
import { main } from '../main.js';
import { REPO_ROOT } from '../../test/support/fixtures.js';
import { formatHz, parseLiveArgs } from './live.js';

describe('live command arguments', () => {
  it('a negative number is a value, not an option; unknown options are usage errors', () => {
    expect(parseLiveArgs(['set', 'n', 'x', '-1.5', '--pid', '12'], [], [])).toEqual({ positionals: ['set', 'n', 'x', '-1.5'], opts: { pid: '12' } });
    expect(parseLiveArgs(['echo', '/a', '-n', '3', '--json'], ['count'], ['json'], { '-n': 'count' }).opts).toEqual({ count: '3', json: 'true' });
    expect(() => parseLiveArgs(['list', '--bogus'], [], [])).toThrow("unknown option '--bogus'");
    expect(() => parseLiveArgs(['list', '--pid'], [], [])).toThrow('--pid needs a value');
  });

  it('hz report as ros2 topic hz prints it', () => {
    expect(formatHz([0, 500, 1000, 1500])).toEqual(['average rate: 2.000', '\tmin: 0.500s max: 0.500s std dev: 0.00000s window: 4']);
    expect(formatHz([1])).toEqual(['no new messages']);
  });
});

describe('kestrel topic|node|param|lifecycle against a running launch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-live-'));
  let child: ChildProcess;
  let socket = '';
  let stdout = '';
  let savedDir: string | undefined;
  const kestrel = (...argv: string[]): Promise<{ code: number; out: string; err: string }> => captureOutput(() => main(argv));

  beforeAll(async () => {
    savedDir = process.env.KESTREL_RUNTIME_DIR;
    process.env.KESTREL_RUNTIME_DIR = dir;
    child = spawn(process.execPath, [join(REPO_ROOT, 'bin/kestrel.js'), 'launch', join(REPO_ROOT, 'launch/demo.launch.yaml'), 'rate_hz:=20.0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, KESTREL_RUNTIME_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    socket = join(dir, `${child.pid}.sock`);
    for (let i = 0; !(existsSync(socket) && stdout.includes('I heard')); i++) {
      if (child.exitCode !== null || i > 300) throw new Error(`the launch did not come up (exit ${child.exitCode}): ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (savedDir === undefined) delete process.env.KESTREL_RUNTIME_DIR;
    else process.env.KESTREL_RUNTIME_DIR = savedDir;
    if (child.exitCode === null) {
      const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    // The socket goes with the process.
    expect(existsSync(socket)).toBe(false);
  });

  it('topic list / info: the bus as it is now, endpoints with their QoS', async () => {
    const list = await kestrel('topic', 'list', '-t');
    expect(list).toMatchObject({ code: 0, err: '' });
    expect(list.out.split('\n')).toContain('/demo/chatter [std_msgs/msg/String]');
    const info = await kestrel('topic', 'info', '/demo/chatter');
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/^Type: std_msgs\/msg\/String\nPublisher count: 1\nSubscription count: 1\nMessages published: \d+\n/);
    expect(info.out).toContain('  /demo/talker  (reliable, volatile, keep_last 10)');
    expect(info.out).toContain('  /demo/listener  (reliable, volatile, keep_last 10)');
    const bad = await kestrel('topic', 'info', '/nosuch');
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('kestrel topic: unknown topic \'/nosuch\' (topics: /demo/chatter)\n');
  });

  it('topic echo -n / --once --json, topic hz', async () => {
    const echo = await kestrel('topic', 'echo', '/demo/chatter', '-n', '2');
    expect(echo.code).toBe(0);
    expect(echo.out).toMatch(/^data: "Hello from Kestrel: (\d+)"\n---\ndata: "Hello from Kestrel: \d+"\n---\n$/);
    const once = await kestrel('topic', 'echo', '/demo/chatter', '--once', '--json');
    expect(JSON.parse(once.out)).toMatchObject({ data: expect.stringMatching(/^Hello from Kestrel: \d+$/) });
    const hz = await kestrel('topic', 'hz', '/demo/chatter', '-n', '1');
    expect(hz.code).toBe(0);
    const rate = Number(/^average rate: ([\d.]+)$/m.exec(hz.out)?.[1]);
    expect(rate).toBeGreaterThan(12);
    expect(rate).toBeLessThan(30);
  }, 20_000);

  it('node list / info', async () => {
    expect((await kestrel('node', 'list')).out).toBe('/demo/talker\n/demo/listener\n');
    const info = await kestrel('node', 'info', 'talker');
    expect(info.code).toBe(0);
    expect(info.out).toContain('/demo/talker\n  Executable: talker (');
    expect(info.out).toContain('  Lifecycle state: active\n  Subscribers:\n  Publishers:\n    /demo/chatter: std_msgs/msg/String\n  Parameters: 4 (dynamic: message)\n');
    const none = await kestrel('node', 'info', 'nosuch');
    expect(none.err).toBe("kestrel node: no node 'nosuch' in this process (nodes: /demo/talker, /demo/listener)\n");
  });

  it('param list / get / set: dynamic parameters change the running node; others, and bad values, are refused', async () => {
    const list = await kestrel('param', 'list', '/demo/talker');
    expect(list.out).toContain('  rate_hz (double [0.01, 1000]) = 20\n');
    expect(list.out).toContain('  message (string, dynamic) = "Hello from Kestrel"\n');
    const set = await kestrel('param', 'set', 'talker', 'message', 'Hi there');
    expect(set).toMatchObject({ code: 0, out: 'Set parameter successful: message (string, dynamic) = "Hi there"\n' });
    expect((await kestrel('param', 'get', 'talker', 'message', '--json')).out).toContain('"value":"Hi there"');
    expect((await kestrel('topic', 'echo', '/demo/chatter', '--once')).out).toMatch(/^data: "Hi there: \d+"/);
    const ro = await kestrel('param', 'set', 'talker', 'rate_hz', '-5.0');
    expect(ro.code).toBe(1);
    expect(ro.err).toBe("kestrel param: kestrel param set: parameter 'rate_hz' of node '/demo/talker': read-only while the node runs (not declared dynamic); set it in a params file or with --ros-args -p\n");
    const typed = await kestrel('param', 'set', 'talker', 'message', '5');
    expect(typed.err).toBe("kestrel param: kestrel param set: parameter 'message' of node '/demo/talker': expected string, got int (5)\n");
    const unknown = await kestrel('param', 'get', 'talker', 'nosuch');
    expect(unknown.err).toMatch(/^kestrel param: node '\/demo\/talker' has no parameter 'nosuch' \(declared: use_sim_time, rate_hz, message, topic\)\n$/);
    expect((await kestrel('param', 'set', 'talker', 'message')).code).toBe(2);
  });

  it('lifecycle get / set: a deactivated node stops publishing, the process stays up, activate resumes', async () => {
    expect((await kestrel('lifecycle', 'get', 'talker')).out).toBe('active\n');
    expect((await kestrel('lifecycle', 'set', 'talker', 'deactivate')).out).toBe('Transitioning successful: /demo/talker is inactive\n');
    const again = await kestrel('lifecycle', 'set', 'talker', 'deactivate');
    expect(again).toMatchObject({ code: 1, err: "kestrel lifecycle: node '/demo/talker': cannot deactivate from state inactive\n" });
    const before = stdout.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(stdout.slice(before)).not.toContain('Publishing');
    expect(child.exitCode).toBeNull();
    expect((await kestrel('lifecycle', 'get')).out).toBe('/demo/talker: inactive\n/demo/listener: active\n');
    expect((await kestrel('lifecycle', 'set', 'talker', 'cleanup')).err).toBe("kestrel lifecycle: unknown transition 'cleanup' (transitions: configure, activate, deactivate, shutdown)\n");
    expect((await kestrel('lifecycle', 'set', 'talker', 'activate')).code).toBe(0);
    expect((await kestrel('topic', 'echo', '/demo/chatter', '--once')).code).toBe(0);
  }, 20_000);

  it('clients that vanish mid-stream (Ctrl-C on an echo) do not take the process down', async () => {
    // A client that never reads what it asked for and closes: the unread answers make the close a reset (ECONNRESET
    // on the process's side). python3, so nothing of Node's stream handling reads them on the way.
    const script = [
      'import socket, sys, time',
      'for _ in range(3):',
      '    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      '    s.connect(sys.argv[1])',
      '    s.sendall(b\'{"id":1,"op":"topic.hz","topic":"/demo/chatter"}\\n{"id":2,"op":"topic.echo","topic":"/demo/chatter"}\\n\')',
      '    time.sleep(0.3)',
      '    s.close()',
    ].join('\n');
    execFileSync('python3', ['-c', script, socket]);
    await new Promise((r) => setTimeout(r, 100));
    expect(child.exitCode).toBeNull();
    expect((await kestrel('node', 'list')).code).toBe(0);
  });

  it('discovery: a pid that is not running is named; the socket can be given', async () => {
    const r = await kestrel('node', 'list', '--pid', '999999999');
    expect(r.err).toBe(`kestrel node: no running Kestrel with pid 999999999 in ${dir} (running: ${child.pid})\n`);
    expect((await kestrel('node', 'list', '--socket', socket)).code).toBe(0);
  });
});
