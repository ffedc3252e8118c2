import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { io } from './command.js';
import { main } from './main.js';
import { fixture, itFixtures } from '../test/support/fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const DEMO = join(ROOT, 'launch', 'demo.launch.yaml');

let out = '';
let err = '';
const saved = { ...io };
beforeEach(() => {
  out = '';
  err = '';
  io.out = (s) => void (out += s);
  io.err = (s) => void (err += s);
});
afterEach(() => {
  io.out = saved.out;
  io.err = saved.err;
});

describe('kestrel CLI (in-process)', () => {
  it('--help lists the commands; no command or an unknown one is a usage error', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(out).toMatch(/^usage: kestrel <command>/);
    for (const c of ['launch', 'topics', 'params']) expect(out).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(await main([])).toBe(2);
    expect(await main(['frobnicate'])).toBe(2);
    expect(err).toMatch(/unknown command 'frobnicate'/);
    out = '';
    expect(await main(['launch', '--help'])).toBe(0);
    expect(out).toMatch(/^usage: kestrel launch <file/);
  });

  it('params <node>: declarations with types, ranges, defaults, descriptions', async () => {
    expect(await main(['params', 'talker'])).toBe(0);
    expect(out).toContain('rate_hz (double [0.01, 1000]) = 1: Messages per second');
    expect(out).toContain('message (string, dynamic) = "Hello World": Text before the counter');
    expect(await main(['params', 'nosuchnode'])).toBe(2);
    expect(err).toMatch(/no Kestrel node named 'nosuchnode'/);
  });

  it('params <node> with a params file and --ros-args: resolved values and their sources', async () => {
    expect(await main(['params', 'talker', '--params-file', join(ROOT, 'config/demo.params.yaml'), '--ros-args', '-r', '__ns:=/demo', '-p', 'topic:=talk', '--'])).toBe(0);
    expect(out).toMatch(/^\/demo\/talker \(talker\):/);
    expect(out).toMatch(/rate_hz \(double\) = 2 {2}\[.*config\/demo\.params\.yaml:8\]/);
    expect(out).toContain('topic (string) = "talk"  [--ros-args -p topic:=talk]');
    expect(out).toContain('use_sim_time (bool) = false  [');
  });

  it('params errors: one line on stderr, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-cli-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, '/**:\n  ros__parameters:\n    rate_hz: "fast"\n');
    expect(await main(['params', 'talker', '--params-file', f])).toBe(1);
    expect(err).toBe(`kestrel params: ${f}:3: parameter 'rate_hz' of node '/talker': expected double, got string ("fast")\n`);
    err = '';
    expect(await main(['params', 'talker', '--ros-args', '--bogus'])).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it('topics <launch>: each topic with type, counts and QoS, nothing activated', async () => {
    expect(await main(['topics', DEMO])).toBe(0);
    expect(out).toBe([
      '/demo/chatter [std_msgs/msg/String] publishers: 1, subscribers: 1',
      '    pub /demo/talker  (reliable, volatile, keep_last 10)',
      '    sub /demo/listener  (reliable, volatile, keep_last 10)',
      '',
    ].join('\n'));
  });

  it('launch --print / --show-args describe without running', async () => {
    expect(await main(['launch', DEMO, 'rate_hz:=7.5', '--print'])).toBe(0);
    expect(out).toMatch(/^node \/demo\/talker {2}\(pkg kestrel, exec talker\)/m);
    expect(out).toMatch(/ {2}param rate_hz = 7\.5 \(double\) {2}.*demo\.launch\.yaml:\d+$/m);
    out = '';
    expect(await main(['launch', DEMO, '--show-args'])).toBe(0);
    expect(out).toContain("'rate_hz':\n    Talker publish rate in Hz\n    (default: '2.0'; now: '2.0' from default)");
  });

  it('launch errors: usage (exit 2) and bad files (exit 1, file:line)', async () => {
    expect(await main(['launch'])).toBe(2);
    expect(err).toMatch(/kestrel launch: missing launch file/);
    err = '';
    expect(await main(['launch', DEMO, 'notanarg'])).toBe(2);
    err = '';
    expect(await main(['launch', DEMO, 'rate_hz:=fast'])).toBe(1);
    expect(err).toMatch(/^kestrel launch: .*demo\.launch\.yaml:\d+: parameter 'rate_hz' of node '\/demo\/talker': expected double, got string \("fast"\)\n$/);
  });

  const TRACING = 'ros2_tracing/tracetools_launch/launch/example.launch.xml';
  const ADD_TWO_INTS = 'demos/demo_nodes_cpp/launch/services/add_two_ints_launch.xml';
  itFixtures('launch errors from ROS 2 launch files: unsupported actions, non-Kestrel nodes (exit 1, file:line)', [TRACING, ADD_TWO_INTS], async () => {
    const tracing = fixture(TRACING);
    expect(await main(['launch', tracing])).toBe(1);
    expect(err).toBe(`kestrel launch: ${tracing}:2: unsupported action <trace> (supported: arg, let, group, push-ros-namespace, node, node-container, load-composable-node, include, executable, set-env, unset-env, set-parameter, set-remap, log)\n`);
    err = '';
    expect(await main(['launch', fixture(ADD_TWO_INTS)])).toBe(1);
    expect(err).toMatch(/cannot run 2 node\(s\) in-process.*pkg 'demo_nodes_cpp' exec 'add_two_ints_server'/);
  });
});

describe('bin/kestrel.js', () => {
  it('launches the demo and exits 0 on SIGINT', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/kestrel.js'), 'launch', DEMO, 'rate_hz:=20.0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('I heard: [Hello from Kestrel: 2]')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited early (${code}): ${stderr}`)));
    });
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/received SIGINT, shutting down/);
  }, 30_000);
});
