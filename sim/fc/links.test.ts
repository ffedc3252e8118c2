/**
 * The simulator's network links on 127.0.0.1 with ephemeral ports. UDP like PX4 SITL: it
 * speaks first to the ground-station and API ports and serves a third peer that speaks to it,
 * all at once. TCP like ArduPilot SITL's 5760: several clients, frames written by two of them
 * at once are not mixed up.
 */
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal, type MavLinkData } from 'node-mavlink';
import { SystemClock } from '../../runtime/clock.js';
import { decodeFrame, MavEncoder, MavFramer } from '../../lib/mavlink/wire.js';
import { SimFlightController } from './flight-controller.js';
import { SimVehicle } from './vehicle.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function peer(): Promise<{ sock: Socket; port: number; rx: { msg: MavLinkData; from: number }[] }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const framer = new MavFramer();
  const rx: { msg: MavLinkData; from: number }[] = [];
  sock.on('message', (b, rinfo) => { for (const f of framer.push(b)) rx.push({ msg: decodeFrame(f), from: rinfo.port }); });
  cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
  return { sock, port: sock.address().port, rx };
}

describe('UDP like PX4 SITL', () => {
  it('sends unsolicited to the GCS and API ports and serves a third peer, all at once', async () => {
    const gcs = await peer();
    const api = await peer();
    const other = await peer();
    const fc = new SimFlightController({ vehicle: new SimVehicle(), clock: new SystemClock(), link: { kind: 'udp', port: 0, gcsPort: gcs.port, apiPort: api.port } });
    await fc.start();
    cleanups.push(() => fc.stop());
    const info = fc.udpInfo();
    expect(info?.port).toBeGreaterThan(0);
    await sleep(1300);
    const hb = (p: { rx: { msg: MavLinkData }[] }) => p.rx.filter((r) => r.msg instanceof minimal.Heartbeat).length;
    // Nobody spoke to the simulator: both configured ports hear it anyway (MAVSDK on udpin://:14540 discovers it).
    expect(hb(gcs)).toBeGreaterThanOrEqual(1);
    expect(hb(api)).toBeGreaterThanOrEqual(1);
    expect(hb(other)).toBe(0);
    // A third peer (MAVProxy --master=udpout:...) speaks first and is answered, while the others keep hearing.
    const enc = new MavEncoder({ sysid: 245, compid: 190 });
    const req = new common.CommandLong();
    Object.assign(req, { targetSystem: 1, targetComponent: 1, command: common.MavCmd.REQUEST_MESSAGE, confirmation: 0, _param1: 148, _param2: 0, _param3: 0, _param4: 0, _param5: 0, _param6: 0, _param7: 0 });
    other.sock.send(enc.encode(req), info?.port as number, '127.0.0.1');
    const before = hb(gcs);
    await sleep(1200);
    expect(other.rx.some((r) => r.msg instanceof common.CommandAck && r.msg.command === common.MavCmd.REQUEST_MESSAGE && r.msg.result === common.MavResult.ACCEPTED)).toBe(true);
    expect(other.rx.some((r) => (r.msg.constructor as { MSG_ID?: number }).MSG_ID === 148)).toBe(true);
    expect(hb(other)).toBeGreaterThanOrEqual(1);
    expect(hb(gcs)).toBeGreaterThan(before);
    expect(fc.udpInfo()?.peers.map((p) => p.port).sort()).toEqual([gcs.port, api.port, other.port].sort());
    expect(fc.status().gcsConnected).toBe(false); // a command is not a heartbeat
  }, 15000);

  it('reports a port that cannot be bound', async () => {
    const taken = await peer();
    const fc = new SimFlightController({ vehicle: new SimVehicle(), clock: new SystemClock(), link: { kind: 'udp', port: taken.port, gcsPort: 0, apiPort: 0 } });
    await expect(fc.start(500)).rejects.toThrow(new RegExp(`udp:127.0.0.1:${taken.port}.*(EADDRINUSE|bind failed)`));
  });
});

describe('TCP like ArduPilot SITL', () => {
  it('serves two clients at once and keeps their interleaved writes apart', async () => {
    const fc = new SimFlightController({ vehicle: new SimVehicle(), clock: new SystemClock(), autopilot: 'ardupilot', link: { kind: 'tcp', port: 0 } });
    await fc.start();
    cleanups.push(() => fc.stop());
    const port = fc.tcpInfo()?.port as number;
    const client = async (sysid: number) => {
      const sock: TcpSocket = connect(port, '127.0.0.1');
      await new Promise<void>((r) => sock.once('connect', () => r()));
      const framer = new MavFramer();
      const rx: MavLinkData[] = [];
      sock.on('data', (b: Buffer) => { for (const f of framer.push(b)) rx.push(decodeFrame(f)); });
      cleanups.push(() => { sock.destroy(); });
      return { sock, rx, enc: new MavEncoder({ sysid, compid: 190 }) };
    };
    const a = await client(245);
    const b = await client(246);
    await sleep(1200);
    expect(fc.tcpInfo()?.clients).toBe(2);
    for (const c of [a, b]) expect(c.rx.some((m) => m instanceof minimal.Heartbeat)).toBe(true);
    const arm = (sys: number) => {
      const m = new common.CommandLong();
      Object.assign(m, { targetSystem: 1, targetComponent: 1, command: sys === 245 ? common.MavCmd.COMPONENT_ARM_DISARM : common.MavCmd.REQUEST_AUTOPILOT_CAPABILITIES, confirmation: 0, _param1: 1, _param2: 0, _param3: 0, _param4: 0, _param5: 0, _param6: 0, _param7: 0 });
      return m;
    };
    // Each client writes its frame in two halves, interleaved with the other's.
    const fa = a.enc.encode(arm(245));
    const fb = b.enc.encode(arm(246));
    a.sock.write(fa.subarray(0, 10));
    b.sock.write(fb.subarray(0, 10));
    await sleep(30);
    a.sock.write(fa.subarray(10));
    b.sock.write(fb.subarray(10));
    await sleep(400);
    const acks = a.rx.filter((m): m is InstanceType<typeof common.CommandAck> => m instanceof common.CommandAck).map((m) => [m.command, m.result, m.targetSystem]);
    expect(acks).toEqual(expect.arrayContaining([[common.MavCmd.COMPONENT_ARM_DISARM, 0, 245], [common.MavCmd.REQUEST_AUTOPILOT_CAPABILITIES, 0, 246]]));
    expect(fc.stats().crcErrors).toBe(0);
    expect(fc.status().armed).toBe(true);
  }, 15000);
});
