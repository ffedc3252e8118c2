/**
 * The bridge and the simulated FC over real pty pairs (socat): link faults, stale commands,
 * line noise, a cable pulled mid-mission, signing, ArduPilot flavour, UDP.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import { SystemClock } from '../../runtime/clock.js';
import { Container } from '../../runtime/container.js';
import { SimFlightController } from '../../sim/fc/flight-controller.js';
import { startPtyPair } from '../../sim/fc/pty.js';
import { SimVehicle } from '../../sim/fc/vehicle.js';
import { mavlinkNode } from './index.js';
import { FAST_VEHICLE, paramMap, startRig, type Rig } from '../../test/support/mavlink-rig.js';
import { MavEncoder } from '../../lib/mavlink/wire.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hover(r: Rig, z = 3): Promise<void> {
  await r.waitState((s) => s.connected && Number.isFinite(s.latitude), 3000, 'connected');
  const t = r.stream('takeoff', { target: { x: 0, y: 0, z } });
  await r.waitState((s) => s.armed && s.position.z > z - 0.3, 8000, `hovering at ${z} m`);
  t.stop();
}

function keyFile(hex: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-key-'));
  const p = join(dir, 'mavlink.key');
  writeFileSync(p, hex + '\n');
  return p;
}

describe('heartbeats', () => {
  it('marks the FC disconnected when its heartbeats stop, and connected again when they resume', async () => {
    rig = await startRig();
    const r = rig;
    await r.waitState((s) => s.connected, 3000, 'connected');
    r.fc.suspend(true);
    const lost = await r.waitState((s) => !s.connected, 3000, 'disconnected');
    expect(lost.connected).toBe(false);
    expect(r.container.diagnostics.forNode('/mavlink').level).toBe('error');
    r.fc.suspend(false);
    await r.waitState((s) => s.connected, 3000, 'reconnected');
    expect(Number(r.diag().heartbeat_losses)).toBe(1);
  }, 20000);

  it('the FC takes its data-link-loss failsafe when the bridge goes silent', async () => {
    rig = await startRig({ fc: { gcsLossTimeoutMs: 1500, gcsLossAction: 'rtl' } });
    const r = rig;
    await hover(r);
    expect(r.fc.status().gcsConnected).toBe(true);
    await r.node.deactivate(); // our heartbeats stop
    const t0 = Date.now();
    while (r.fc.status().mode !== 'AUTO.RTL' && Date.now() - t0 < 4000) await sleep(20);
    expect(r.fc.status()).toMatchObject({ mode: 'AUTO.RTL', gcsConnected: false, failsafe: 'data link lost: rtl' });
  }, 20000);
});

describe('stale commands', () => {
  it('never streams a command that arrives already expired', async () => {
    rig = await startRig();
    const r = rig;
    await hover(r);
    const before = r.fc.stats().setpoints;
    r.cmd('goto', { target: { x: 20, y: 0, z: 3 } }, -1);
    await sleep(300);
    expect(r.fc.stats().setpoints).toBe(before);
    expect(Number(r.diag().cmd_stale)).toBe(1);
    expect(r.vehicle.truth().x).toBeCloseTo(0, 0);
  }, 20000);

  it('stops the setpoint stream at valid_until and puts the vehicle in hold once', async () => {
    rig = await startRig();
    const r = rig;
    await hover(r);
    const go = r.stream('goto', { target: { x: 30, y: 0, z: 3 } });
    await r.waitState((s) => s.mode === 'OFFBOARD' && s.position.x > 1, 5000, 'moving in OFFBOARD');
    go.stop();
    // The last command expires 400 ms after it was published; then: no more setpoints, hold.
    await r.waitState((s) => s.mode === 'AUTO.LOITER', 3000, 'hold after expiry');
    const n = r.fc.stats().setpoints;
    await sleep(400);
    expect(r.fc.stats().setpoints).toBe(n);
    expect(Number(r.diag().cmd_expired)).toBe(1);
    // Hold means the vehicle stops short of the target instead of flying on.
    expect(r.vehicle.truth().x).toBeLessThan(25);
    expect(r.fc.status().failsafe).toBeUndefined();
  }, 20000);
});

describe('bad input on the wire', () => {
  it('parses valid frames among garbage, truncated and corrupt frames and counts the errors', async () => {
    rig = await startRig();
    const r = rig;
    await r.waitState((s) => s.connected, 3000, 'connected');
    const enc = new MavEncoder({ sysid: 1, compid: 1 });
    const text = (t: string) => {
      const m = new common.StatusText();
      m.severity = common.MavSeverity.INFO;
      m.text = t;
      m.id = 0;
      m.chunkSeq = 0;
      return enc.encode(m);
    };
    const texts: string[] = [];
    for (let i = 0; i < 30; i++) {
      const junk = Buffer.from(Array.from({ length: 7 + (i % 11) }, (_, k) => (i * 31 + k * 97 + 13) & 0xff));
      const truncated = text('cut').subarray(0, 9);
      const corrupt = Buffer.from(text('corrupt'));
      corrupt[11] ^= 0x55;
      const unknown = Buffer.from(text('unknown'));
      unknown.writeUIntLE(0x00beef, 7, 3);
      r.fc.injectRaw(Buffer.concat([junk, truncated, corrupt, unknown, text(`probe-${i}`)]));
      texts.push(`probe-${i}`);
      await sleep(5);
    }
    const s = await r.waitState((st) => st.status_text === 'probe-29', 3000, 'last probe received');
    expect(s.connected).toBe(true);
    const d = r.diag();
    expect(Number(d.crcErrors)).toBeGreaterThanOrEqual(30);
    expect(Number(d.unknownIds)).toBeGreaterThanOrEqual(1);
    expect(Number(d.noiseBytes)).toBeGreaterThan(0);
  }, 20000);

  it('ignores messages from unexpected system ids and rejects out-of-range commands', async () => {
    rig = await startRig();
    const r = rig;
    await r.waitState((s) => s.connected, 3000, 'connected');
    // An impostor (system 42) claims to be armed; commands acks from it must not count either.
    const impostor = new MavEncoder({ sysid: 42, compid: 1 });
    const hb = new minimal.Heartbeat();
    hb.type = minimal.MavType.QUADROTOR;
    hb.autopilot = minimal.MavAutopilot.PX4;
    hb.baseMode = minimal.MavModeFlag.SAFETY_ARMED | minimal.MavModeFlag.CUSTOM_MODE_ENABLED;
    hb.customMode = 0;
    hb.systemStatus = minimal.MavState.ACTIVE;
    hb.mavlinkVersion = 3;
    for (let i = 0; i < 5; i++) r.fc.injectRaw(impostor.encode(hb));
    r.cmd('velocity', { velocity: { x: 100, y: 0, z: 0 } });
    r.cmd('takeoff', { target: { x: 0, y: 0, z: -5 } });
    r.cmd('teleport');
    await sleep(300);
    const s = await r.waitState(() => true, 1000);
    expect(s.armed).toBe(false);
    const d = r.diag();
    expect(Number(d.foreign_sysid)).toBeGreaterThanOrEqual(5);
    expect(Number(d.cmd_rejected)).toBe(3);
    expect(r.fc.stats().setpoints).toBe(0);
  }, 20000);
});

describe('link faults', () => {
  it('survives the serial link vanishing mid-mission and resumes when it comes back', async () => {
    rig = await startRig();
    const r = rig;
    await hover(r);
    const go = r.stream('goto', { target: { x: 15, y: 0, z: 3 } });
    await r.waitState((s) => s.mode === 'OFFBOARD' && s.position.x > 2, 5000, 'en route');
    const { a, b, dir } = r.pty;
    // Pull the cable: socat exits and both /dev/pts ends disappear.
    await r.pty.unplug();
    await r.waitState((s) => !s.connected, 3000, 'link lost');
    // The FC, deaf to setpoints, takes PX4's offboard-loss failsafe.
    const t0 = Date.now();
    while (r.fc.status().mode !== 'AUTO.LOITER' && Date.now() - t0 < 2000) await sleep(20);
    expect(r.fc.status().failsafe).toBe('offboard setpoints lost: hold');
    // Plug it back in at the same paths.
    r.pty = await startPtyPair({ a, b, dir });
    await r.waitState((s) => s.connected, 5000, 'reconnected without a restart');
    await r.waitState((s) => Math.hypot(s.position.x - 15, s.position.y) < 0.5, 8000, 'mission resumed to the target');
    go.stop();
    expect(Number(r.diag().linkDowns)).toBeGreaterThanOrEqual(1);
  }, 30000);
});

describe('signing', () => {
  const KEY = 'a1'.repeat(32);
  const WRONG = 'b2'.repeat(32);

  it('with the right key: connects and commands work', async () => {
    rig = await startRig({ fc: { signingKey: Buffer.from(KEY, 'hex') }, params: { signing_key_file: keyFile(KEY) } });
    const r = rig;
    await r.waitState((s) => s.connected, 3000, 'connected (signed)');
    r.cmd('arm', {}, 1000);
    await r.waitState((s) => s.armed, 3000, 'armed');
  }, 20000);

  it('with a wrong key: the FC rejects our messages and we reject its', async () => {
    rig = await startRig({ fc: { signingKey: Buffer.from(KEY, 'hex') }, params: { signing_key_file: keyFile(WRONG) } });
    const r = rig;
    await sleep(800);
    r.cmd('arm', {}, 1000);
    await sleep(400);
    const s = await r.waitState(() => true, 1000);
    expect(s.connected).toBe(false);
    expect(r.vehicle.truth().armed).toBe(false);
    expect(Number(r.diag().badSignature)).toBeGreaterThan(0);
    expect(r.fc.stats().badSignature).toBeGreaterThan(0);
    expect(r.fc.stats().commands).toBe(0);
  }, 20000);

  it('an unsigned bridge is rejected by a signing FC', async () => {
    rig = await startRig({ fc: { signingKey: Buffer.from(KEY, 'hex') } });
    const r = rig;
    await sleep(600);
    expect(r.fc.stats().unsigned).toBeGreaterThan(0);
    expect(r.fc.status().gcsConnected).toBe(false);
  }, 20000);
});

describe('ArduPilot flavour and UDP', () => {
  it('detects ArduCopter, takes off through GUIDED and lands', async () => {
    rig = await startRig({ fc: { autopilot: 'ardupilot' }, params: { autopilot: 'auto' } });
    const r = rig;
    const s0 = await r.waitState((s) => s.connected && Number.isFinite(s.latitude), 3000, 'connected');
    expect(s0.autopilot).toBe('ardupilot');
    const t = r.stream('takeoff', { target: { x: 0, y: 0, z: 3 } });
    const up = await r.waitState((s) => s.armed && s.position.z > 2.7, 8000, 'airborne');
    t.stop();
    expect(up.mode).toBe('GUIDED');
    const v = r.stream('velocity', { velocity: { x: 2, y: 0, z: 0 } });
    await r.waitState((s) => s.velocity.x > 1.5, 5000, 'moving east');
    v.stop();
    const l = r.stream('land');
    await r.waitState((s) => s.mode === 'LAND' && !s.armed, 8000, 'landed');
    l.stop();
  }, 30000);

  it('talks to the FC over UDP on 127.0.0.1', async () => {
    const clock = new SystemClock();
    const vehicle = new SimVehicle(FAST_VEHICLE);
    const fcPort = 20000 + Math.floor(Math.random() * 20000);
    const fc = new SimFlightController({ vehicle, clock, link: { kind: 'udp', port: fcPort, gcsPort: 0, apiPort: 0 } });
    await fc.start();
    const c = new Container({ clock, registry: new Map([['mavlink', mavlinkNode]]), logSink: () => {} });
    const node = await c.add({ package: 'kestrel', executable: 'mavlink', params: paramMap({ transport: 'udp', udp_bind_port: 0, udp_bind_host: '127.0.0.1', udp_remote_port: fcPort, heartbeat_rate_hz: 5 }), remaps: [] });
    try {
      await node.activate();
      const deadline = Date.now() + 4000;
      let connected = false;
      const sub = c.bus.subscribe('/fc/state', 'kestrel_msgs/msg/VehicleState').subscribe((s) => { connected ||= s.connected; });
      while (!connected && Date.now() < deadline) await sleep(20);
      sub.unsubscribe();
      expect(connected).toBe(true);
      expect(fc.status().gcsConnected).toBe(true);
    } finally {
      await c.shutdownAll();
      await fc.stop();
    }
  }, 20000);
});
