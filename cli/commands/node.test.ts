/**
 * `kestrel node <exec> --ros-args ...` as separate "processes" on the fake rclnodejs:
 * node renames, namespaces, topic remaps, params, use_sim_time with /clock and /diagnostics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeMsg } from '../../msgs/index.js';
import { every } from '../../runtime/clock.js';
import { defineNode, type NodeDefinition } from '../../runtime/node.js';
import { p, type ParamDecls } from '../../runtime/params.js';
import { cycloneUnavailable } from '../../runtime/transport/dds/cyclone.js';
import { Ros2TypeError } from '../../runtime/transport/load-rclnodejs.js';
import type { Ros2Transport } from '../../runtime/transport/ros2.js';
import { createFakeRclnodejs } from '../../test/fakes/rclnodejs/index.js';
import { declaredParams, startNodeProcess, type NodeProcess } from './node.js';

const talker = defineNode({
  name: 'talker',
  description: 'publishes `message` on chatter every period_ms',
  params: { message: p.string('hello', 'text'), period_ms: p.double(100, 'period', { min: 1 }) },
  publishes: [{ topic: 'chatter', type: 'std_msgs/msg/String', description: 'text' }],
  create(ctx, prm) {
    const pub = ctx.advertise('chatter', 'std_msgs/msg/String');
    return {
      activate: () => every(ctx.clock, prm.period_ms).subscribe(() => pub.publish(makeMsg('std_msgs/msg/String', { data: `${prm.message} @${ctx.clock.now()}` }))),
    };
  },
});

const listener = defineNode({
  name: 'listener',
  description: 'records what it hears',
  params: {},
  subscribes: [{ topic: 'chatter', type: 'std_msgs/msg/String', description: 'text' }],
  create(ctx) {
    const heard: string[] = [];
    ctx.diag.values.heard = '0';
    return {
      activate: () =>
        ctx.subscribe('chatter', 'std_msgs/msg/String').subscribe((m) => {
          heard.push(m.data);
          ctx.diag.values.heard = String(heard.length);
          ctx.diag.values.last = m.data;
        }),
    };
  },
});

const tracker = defineNode({
  name: 'tracker',
  description: 'publishes a kestrel_msgs type',
  params: {},
  publishes: [{ topic: '/tracks', type: 'kestrel_msgs/msg/TrackArray', description: 'tracks' }],
  create: () => ({}),
});

const registry = new Map<string, NodeDefinition<ParamDecls>>([talker, listener, tracker].map((d) => [d.name, d as unknown as NodeDefinition<ParamDecls>]));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const quiet = (): void => {};

describe('kestrel node on the ROS 2 transport (fake rclnodejs)', () => {
  const procs: NodeProcess[] = [];
  afterEach(async () => {
    for (const pr of procs.splice(0).reverse()) await pr.stop();
  });

  it('applies __node, __ns, topic remaps and -p like ros2 launch, across two processes', async () => {
    const rcl = createFakeRclnodejs();
    const common = { rcl, registry, transport: 'ros2' as const, logSink: quiet, diagnosticsPeriodMs: 0 };
    const tk = await startNodeProcess({
      ...common,
      executable: 'talker',
      argv: ['--ros-args', '-r', '__node:=voice', '-r', '__ns:=/drone1', '-r', 'chatter:=/shout', '-p', 'message:=hi', '-p', 'period_ms:=20'],
    });
    procs.push(tk);
    const ls = await startNodeProcess({ ...common, executable: 'listener', argv: ['--ros-args', '-r', 'chatter:=/shout'] });
    procs.push(ls);
    const diag = ls.container.diagnostics.forNode('/listener');
    await waitFor(() => Number(diag.values.heard) >= 2, 'listener to hear the talker');
    expect(diag.values.last).toMatch(/^hi @/);
    expect(rcl.nodeNames()).toEqual(['/drone1/voice', '/listener']);
    const node = (tk.transport as Ros2Transport).node;
    expect(node.getTopicNamesAndTypes().map((t) => t.name)).toContain('/shout');
    expect(node.getTopicNamesAndTypes().map((t) => t.name)).not.toContain('/drone1/chatter');
    // Kestrel's resolved parameters are visible to `ros2 param get`, read-only.
    expect(node.getParameter('message').value).toBe('hi');
    expect(node.getParameter('period_ms').value).toBe(20);
    expect(node.getParameter('use_sim_time').value).toBe(false);
  });

  it('use_sim_time: the node runs on /clock from another process', async () => {
    const rcl = createFakeRclnodejs();
    const common = { rcl, registry, transport: 'ros2' as const, logSink: quiet, diagnosticsPeriodMs: 0 };
    const tk = await startNodeProcess({ ...common, executable: 'talker', argv: ['--ros-args', '-p', 'use_sim_time:=true', '-p', 'period_ms:=100'] });
    procs.push(tk);
    const ls = await startNodeProcess({ ...common, executable: 'listener' });
    procs.push(ls);
    expect(tk.clock.kind).toBe('sim');
    // A third process plays the clock, as `ros2 bag play --clock` would.
    const { Ros2Transport } = await import('../../runtime/transport/ros2.js');
    const { BridgedBus } = await import('../../runtime/transport/bridged-bus.js');
    const player = await Ros2Transport.create({ rcl, nodeName: 'player' });
    const pbus = new BridgedBus();
    pbus.attach(player);
    const clockPub = pbus.advertise('/clock', 'rosgraph_msgs/msg/Clock');
    try {
      clockPub.publish(makeMsg('rosgraph_msgs/msg/Clock', { clock: { sec: 0, nanosec: 50_000_000 } }));
      await waitFor(() => tk.clock.now() === 50, 'sim time 0.05 s');
      const diag = ls.container.diagnostics.forNode('/listener');
      expect(diag.values.heard).toBe('0'); // no timer is due yet on sim time
      clockPub.publish(makeMsg('rosgraph_msgs/msg/Clock', { clock: { sec: 0, nanosec: 350_000_000 } }));
      await waitFor(() => tk.clock.now() === 350, 'sim time 0.35 s');
      // Timer ticks at sim 0.1, 0.2, 0.3 s: three messages stamped with sim time.
      await waitFor(() => Number(diag.values.heard) === 3, 'three sim-time ticks');
      expect(diag.values.last).toBe('hello @300');
      expect(tk.clockStats?.ticks).toBe(2);
    } finally {
      await player.close();
    }
  });

  it('publishes /diagnostics for the node process', async () => {
    const rcl = createFakeRclnodejs();
    const tk = await startNodeProcess({ rcl, registry, transport: 'ros2', logSink: quiet, executable: 'talker', diagnosticsPeriodMs: 20, argv: ['--ros-args', '-r', '__node:=t1'] });
    procs.push(tk);
    const mon = await startNodeProcess({ rcl, registry, transport: 'ros2', logSink: quiet, executable: 'listener', diagnosticsPeriodMs: 0, argv: ['--ros-args', '-r', 'chatter:=/diagnostics_unused'] });
    procs.push(mon);
    const names = new Set<string>();
    const states = new Map<string, string>();
    mon.bus.subscribe('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray').subscribe((m) => {
      for (const s of m.status) {
        names.add(s.name);
        states.set(s.name, s.values.find((kv) => kv.key === 'state')?.value ?? '');
      }
    });
    await waitFor(() => names.has('/t1'), '/diagnostics from /t1');
    expect(states.get('/t1')).toBe('active');
  });

  it('refuses to start a node whose message type the ROS 2 install lacks, naming type and package', async () => {
    const rcl = createFakeRclnodejs({ packages: ['std_msgs', 'builtin_interfaces', 'rosgraph_msgs', 'diagnostic_msgs'] });
    const err = await startNodeProcess({ rcl, registry, transport: 'ros2', logSink: quiet, executable: 'tracker' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Ros2TypeError);
    expect((err as Error).message).toMatch(/message type 'kestrel_msgs\/msg\/TrackArray' \(topic '\/tracks'\).*package 'kestrel_msgs'/);
    expect(rcl.nodeNames()).toEqual([]); // the rcl node was cleaned up
  });

  it('reports a half-sourced ROS 2 environment and unknown executables clearly', async () => {
    await expect(startNodeProcess({ registry, executable: 'talker', transport: 'auto', env: { ROS_DISTRO: 'humble' }, logSink: quiet })).rejects.toThrow(
      /half-sourced: ROS_DISTRO=humble but AMENT_PREFIX_PATH is empty/,
    );
    await expect(startNodeProcess({ registry, executable: 'nope', env: {}, logSink: quiet })).rejects.toThrow(/no Kestrel node named 'nope'.*known: talker, listener, tracker/);
  });

  it('runs in-process without ROS 2 (auto, nothing sourced)', async () => {
    const pr = await startNodeProcess({ registry, executable: 'talker', env: {}, logSink: quiet, diagnosticsPeriodMs: 0, argv: ['--ros-args', '-p', 'period_ms:=5'] });
    procs.push(pr);
    expect(pr.transport.kind).toBe('inproc');
    const got: string[] = [];
    pr.bus.subscribe('/chatter', 'std_msgs/msg/String').subscribe((m) => got.push(m.data));
    await waitFor(() => got.length > 0, 'a message on /chatter');
  });
});

const noCyclone = cycloneUnavailable();
if (noCyclone) console.log(`skipping 'kestrel node --transport dds': ${noCyclone}`);

describe.skipIf(noCyclone !== undefined)('kestrel node on the DDS transport (Cyclone DDS, loopback)', () => {
  it('a talker and a listener in separate participants meet over DDS, remaps applied', async () => {
    // A domain of its own, so that parallel runs and other DDS users on this machine do not mix.
    const env = { ROS_DOMAIN_ID: String(30 + (process.pid % 60)) };
    const common = { registry, transport: 'dds' as const, env, logSink: quiet, diagnosticsPeriodMs: 0 };
    const tk = await startNodeProcess({ ...common, executable: 'talker', argv: ['--ros-args', '-r', 'chatter:=/shout', '-p', 'message:=hi', '-p', 'period_ms:=20'] });
    const ls = await startNodeProcess({ ...common, executable: 'listener', argv: ['--ros-args', '-r', 'chatter:=/shout'] });
    try {
      expect(tk.transport.kind).toBe('dds');
      const diag = ls.container.diagnostics.forNode('/listener');
      await waitFor(() => Number(diag.values.heard) >= 2, 'listener to hear the talker over DDS', 10_000);
      expect(diag.values.last).toMatch(/^hi @/);
    } finally {
      await ls.stop();
      await tk.stop();
    }
  }, 20_000);
});

describe('parameters shown to ROS 2', () => {
  it('flattens groups as ROS 2 names them and declares read-only; empty arrays are skipped with the reason', async () => {
    const decls = {
      regions: p.group('double[]', 'polygons by name'),
      classes: p.stringArray([], 'class names'),
      threshold: p.double(0.5, 'score threshold'),
    };
    const params = declaredParams(decls, { use_sim_time: false, regions: { queue: [0, 0, 1, 1] }, classes: [], threshold: 0.25 });
    expect(params.map((x) => x.name)).toEqual(['use_sim_time', 'regions.queue', 'classes', 'threshold']);
    const rcl = createFakeRclnodejs();
    const { Ros2Transport: T } = await import('../../runtime/transport/ros2.js');
    const t = await T.create({ rcl, nodeName: 'perception' });
    try {
      const skipped = t.declareParameters(params);
      expect(skipped).toEqual(['classes: empty arrays cannot be ROS 2 parameter values']);
      expect(t.node.getParameter('regions.queue').value).toEqual([0, 0, 1, 1]);
      expect(t.node.getParameter('threshold').value).toBe(0.25);
      const fakeNode = t.node as unknown as { getParameterDescriptor(n: string): { readOnly: boolean; description: string } };
      expect(fakeNode.getParameterDescriptor('threshold')).toMatchObject({ readOnly: true, description: 'score threshold' });
    } finally {
      await t.close();
    }
  });
});
