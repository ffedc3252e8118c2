import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NODE_REGISTRY } from '../../nodes/index.js';
import { Container } from '../container.js';
import type { LogRecord } from '../log.js';
import { fixture, itFixtures } from '../../test/support/fixtures.js';
import { KESTREL_ROOT, launchInProcess, LaunchRunError, resolveLaunch } from './index.js';

const TOPICS = 'demos/demo_nodes_cpp/launch/topics';
const defaultNodeName = (_pkg: string, exec: string): string | undefined => NODE_REGISTRY.get(exec)?.name;

describe('launchInProcess', () => {
  it('runs launch/demo.launch.yaml: params from file and args reach the nodes, messages flow, shutdown finalizes', async () => {
    const resolved = resolveLaunch(join(KESTREL_ROOT, 'launch/demo.launch.yaml'), { rate_hz: '50.0' }, { defaultNodeName });
    const logs: LogRecord[] = [];
    const container = new Container({ registry: NODE_REGISTRY, logSink: (r) => logs.push(r) });
    const heard = firstValueFrom(container.bus.subscribe('/demo/chatter', 'std_msgs/msg/String').pipe(take(3), toArray()));
    const handle = await launchInProcess(resolved, container, { registry: NODE_REGISTRY, handleSignals: false });
    expect(container.nodes.map((n) => [n.ctx.fqn, n.state])).toEqual([['/demo/talker', 'active'], ['/demo/listener', 'active']]);
    expect(container.nodes[0]!.params).toMatchObject({ rate_hz: 50, message: 'Hello from Kestrel' });
    expect((await heard).map((m) => m.data)).toEqual(['Hello from Kestrel: 1', 'Hello from Kestrel: 2', 'Hello from Kestrel: 3']);
    await handle.shutdown();
    await handle.done;
    expect(container.nodes.map((n) => n.state)).toEqual(['finalized', 'finalized']);
    expect(logs.some((l) => l.node === '/demo/listener' && l.message === 'I heard: [Hello from Kestrel: 1]')).toBe(true);
  });

  itFixtures('runs the ROS 2 demo talker_listener_launch.xml with Kestrel talker/listener (package demo_nodes_cpp)', TOPICS, async () => {
    const resolved = resolveLaunch(fixture(TOPICS, 'talker_listener_launch.xml'), {}, { defaultNodeName });
    const container = new Container({ registry: NODE_REGISTRY, logSink: () => {} });
    const handle = await launchInProcess(resolved, container, { registry: NODE_REGISTRY, handleSignals: false });
    expect(container.nodes.map((n) => n.ctx.fqn)).toEqual(['/talker', '/listener']);
    expect(container.bus.topics().map((t) => [t.name, t.publishers])).toEqual([['/chatter', 1]]);
    await handle.shutdown();
  });

  itFixtures('refuses, before starting anything, nodes that are not Kestrel executables', TOPICS, async () => {
    const resolved = resolveLaunch(fixture(TOPICS, 'talker_listener_best_effort_launch.xml'), {}, { defaultNodeName });
    const container = new Container({ registry: NODE_REGISTRY, logSink: () => {} });
    await expect(launchInProcess(resolved, container, { registry: NODE_REGISTRY, handleSignals: false })).rejects.toThrow(LaunchRunError);
    await expect(launchInProcess(resolved, container, { registry: NODE_REGISTRY, handleSignals: false })).rejects.toThrow(
      /talker_listener_best_effort_launch\.xml:3: pkg 'demo_nodes_cpp' exec 'listener_best_effort'/,
    );
    expect(container.nodes).toEqual([]);
  });

  it('spawns <executable>s with prefixed output and stops them on shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-run-'));
    const file = join(dir, 'x.launch.xml');
    writeFileSync(file, `<launch>
  <set_env name="KESTREL_GREETING" value="hello"/>
  <executable cmd="${process.execPath} -e &quot;console.log(process.env.KESTREL_GREETING); setInterval(() => {}, 1000)&quot;" name="greeter" sigterm_timeout="2"/>
</launch>`);
    const lines: string[] = [];
    let seen!: () => void;
    const printed = new Promise<void>((r) => (seen = r));
    const container = new Container({ registry: NODE_REGISTRY, logSink: () => {} });
    const handle = await launchInProcess(resolveLaunch(file), container, {
      registry: NODE_REGISTRY,
      handleSignals: false,
      write: (l) => {
        lines.push(l);
        if (l === '[greeter-1] hello') seen();
      },
    });
    await printed;
    await handle.shutdown();
    expect(handle.processes[0]!.exitCode !== null || handle.processes[0]!.signalCode !== null).toBe(true);
    expect(lines[0]).toBe('[greeter-1] hello');
  });

  it('respawns an <executable respawn="true"> after respawn_delay until shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-run-'));
    const file = join(dir, 'r.launch.xml');
    writeFileSync(file, `<launch>
  <executable cmd="${process.execPath} -e &quot;console.log('tick')&quot;" name="ticker" respawn="true" respawn_delay="0.05"/>
</launch>`);
    let ticks = 0;
    let enough!: () => void;
    const twice = new Promise<void>((r) => (enough = r));
    const container = new Container({ registry: NODE_REGISTRY, logSink: () => {} });
    const handle = await launchInProcess(resolveLaunch(file), container, {
      registry: NODE_REGISTRY,
      handleSignals: false,
      write: (l) => {
        if (l === '[ticker-1] tick' && ++ticks === 2) enough();
      },
    });
    await twice;
    await handle.shutdown();
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it('applies ros_args --log-level to that node only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-run-'));
    const file = join(dir, 'log.launch.xml');
    writeFileSync(file, `<launch>
  <node pkg="kestrel" exec="talker" ros_args="--log-level warn"><param name="rate_hz" value="100.0"/></node>
  <node pkg="kestrel" exec="listener"/>
</launch>`);
    const logs: LogRecord[] = [];
    const container = new Container({ registry: NODE_REGISTRY, logSink: (r) => logs.push(r) });
    const heard = firstValueFrom(container.bus.subscribe('/chatter', 'std_msgs/msg/String').pipe(take(2), toArray()));
    const handle = await launchInProcess(resolveLaunch(file, {}, { defaultNodeName }), container, { registry: NODE_REGISTRY, handleSignals: false });
    await heard;
    await handle.shutdown();
    expect(logs.some((l) => l.node === '/talker')).toBe(false);
    expect(logs.some((l) => l.node === '/listener' && l.message.startsWith('I heard'))).toBe(true);
  });

  it('with only <executable>s, the launch ends when the last one exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-run-'));
    const file = join(dir, 'once.launch.xml');
    writeFileSync(file, `<launch>\n  <executable cmd="${process.execPath} -e &quot;console.log(1)&quot;"/>\n  <executable cmd="${process.execPath} -e &quot;setTimeout(() => {}, 200)&quot;"/>\n</launch>`);
    const container = new Container({ registry: NODE_REGISTRY, logSink: () => {} });
    const handle = await launchInProcess(resolveLaunch(file), container, { registry: NODE_REGISTRY, handleSignals: false, write: () => {} });
    await handle.done;
    expect(handle.processes.every((c) => c.exitCode === 0)).toBe(true);
  });
});
