import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { SimClock, SystemClock } from '../../runtime/clock.js';
import { MavEndpoint } from '../../lib/mavlink/endpoint.js';
import { MavFramer } from '../../lib/mavlink/wire.js';
import { setModeParams } from '../../lib/mavlink/modes.js';
import { SimFlightController } from './flight-controller.js';
import { startPtyPair, type PtyPair } from './pty.js';
import { SimVehicle } from './vehicle.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SimFlightController under sim time', () => {
  it('steps physics and paces telemetry on the SimClock only', async () => {
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    const peerPort = peer.address().port;
    const framer = new MavFramer();
    const ids: number[] = [];
    peer.on('message', (m) => { for (const f of framer.push(m)) ids.push(f.msgid); });
    const clock = new SimClock(0);
    const vehicle = new SimVehicle();
    const fc = new SimFlightController({ vehicle, clock, link: { kind: 'udp', port: 0, remoteHost: '127.0.0.1', remotePort: peerPort }, physicsHz: 50 });
    cleanups.push(async () => { await fc.stop(); peer.close(); });
    await fc.start();
    await sleep(200);
    expect(vehicle.elapsedMs()).toBe(0); // no sim time, no physics
    for (let i = 0; i < 100; i++) clock.advanceBy(50); // 5 s of sim time
    expect(vehicle.elapsedMs()).toBeCloseTo(5000, 6);
    await sleep(300);
    const count = (id: number) => ids.filter((x) => x === id).length;
    expect(count(0)).toBe(5); // HEARTBEAT 1 Hz
    expect(count(30)).toBe(50); // ATTITUDE 10 Hz
    expect(count(1)).toBe(5); // SYS_STATUS 1 Hz
  });
});

describe('SimFlightController start', () => {
  it('fails with the device and the reason when the serial port never opens', async () => {
    const fc = new SimFlightController({ vehicle: new SimVehicle(), clock: new SystemClock(), link: { kind: 'serial', path: '/nonexistent/kestrel-fc', baudRate: 57600 } });
    await expect(fc.start(300)).rejects.toThrow(/serial:\/nonexistent\/kestrel-fc@57600 not up within 300 ms \(.*cannot open/);
  });
});

describe('SimFlightController command handling (raw MAVLink over a pty)', () => {
  async function setup(autopilot: 'px4' | 'ardupilot' = 'px4') {
    const pty: PtyPair = await startPtyPair();
    const clock = new SystemClock();
    const vehicle = new SimVehicle();
    const fc = new SimFlightController({ vehicle, clock, autopilot, link: { kind: 'serial', path: pty.a, baudRate: 921600 } });
    await fc.start();
    const acks: InstanceType<typeof common.CommandAck>[] = [];
    const rx: MavLinkData[] = [];
    const gcs = new MavEndpoint({
      link: { kind: 'serial', path: pty.b, baudRate: 921600 }, clock, sysid: 255, compid: 190,
      onMessage: ({ msg }) => { rx.push(msg); if (msg instanceof common.CommandAck) acks.push(msg); },
    });
    gcs.start();
    cleanups.push(async () => { await gcs.stop(); await fc.stop(); await pty.close(); });
    while (!gcs.isUp()) await sleep(10);
    const command = async (cmd: number, params: number[]): Promise<number> => {
      const m = new common.CommandLong();
      Object.assign(m, { targetSystem: 1, targetComponent: 1, command: cmd, confirmation: 0 });
      const p = [...params, 0, 0, 0, 0, 0, 0, 0];
      Object.assign(m, { _param1: p[0], _param2: p[1], _param3: p[2], _param4: p[3], _param5: p[4], _param6: p[5], _param7: p[6] });
      const n = acks.length;
      gcs.send(m);
      const t0 = Date.now();
      while (acks.length === n && Date.now() - t0 < 2000) await sleep(5);
      const a = acks[n];
      if (!a) throw new Error(`no COMMAND_ACK for command ${cmd}`);
      expect(a.command).toBe(cmd);
      expect(a.targetSystem).toBe(255);
      return a.result;
    };
    return { fc, vehicle, gcs, command, rx };
  }
  const R = common.MavResult;
  const C = common.MavCmd;

  it('acks every command, refusing out-of-range and unknown ones', async () => {
    const { command, vehicle, fc } = await setup();
    expect(await command(C.COMPONENT_ARM_DISARM, [5])).toBe(R.DENIED); // param1 must be 0 or 1
    expect(await command(12345 as common.MavCmd, [])).toBe(R.UNSUPPORTED);
    expect(await command(C.NAV_TAKEOFF, [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, Number.NaN])).toBe(R.DENIED); // disarmed
    const off = setModeParams('px4', 'offboard');
    expect(await command(C.DO_SET_MODE, [1, off.param2, off.param3])).toBe(R.DENIED); // no setpoints streaming
    expect(await command(C.DO_SET_MODE, [1, 42, 0])).toBe(R.DENIED); // no such PX4 mode
    expect(await command(C.COMPONENT_ARM_DISARM, [1])).toBe(R.ACCEPTED);
    expect(vehicle.truth().armed).toBe(true);
    expect(await command(C.NAV_TAKEOFF, [0, 0, 0, Number.NaN, Number.NaN, Number.NaN, vehicle.origin.alt + 100000])).toBe(R.DENIED); // absurd altitude
    expect(fc.stats().commandsRefused).toBe(6);
  });

  it('honours SET_MESSAGE_INTERVAL', async () => {
    const { command, rx } = await setup();
    expect(await command(C.SET_MESSAGE_INTERVAL, [30, -1])).toBe(R.ACCEPTED); // ATTITUDE off
    expect(await command(C.SET_MESSAGE_INTERVAL, [32, 1e6 / 50])).toBe(R.ACCEPTED); // LOCAL_POSITION_NED 50 Hz
    expect(await command(C.SET_MESSAGE_INTERVAL, [9999, 1000])).toBe(R.UNSUPPORTED);
    rx.length = 0;
    await sleep(1000);
    const att = rx.filter((m) => m instanceof common.Attitude).length;
    const lp = rx.filter((m) => m instanceof common.LocalPositionNed).length;
    const gp = rx.filter((m) => m instanceof common.GlobalPositionInt).length;
    expect(att).toBe(0);
    // 50 Hz against GLOBAL_POSITION_INT's default 5 Hz in the same second (real timers: no exact counts).
    expect(gp).toBeGreaterThan(0);
    expect(lp).toBeGreaterThan(2.5 * gp);
  });

  it('reports modes in the heartbeat the way PX4 does', async () => {
    const { command, rx } = await setup();
    expect(await command(C.COMPONENT_ARM_DISARM, [1])).toBe(R.ACCEPTED);
    const hold = setModeParams('px4', 'hold');
    expect(await command(C.DO_SET_MODE, [1, hold.param2, hold.param3])).toBe(R.ACCEPTED);
    await sleep(100);
    const hb = rx.filter((m): m is InstanceType<typeof minimal.Heartbeat> => m instanceof minimal.Heartbeat).at(-1);
    expect(hb?.customMode).toBe(hold.customMode);
    expect((hb?.baseMode ?? 0) & minimal.MavModeFlag.SAFETY_ARMED).toBeTruthy();
  });
});
