/**
 * Framing through a serialport stream with @serialport/binding-mock (unit level; the
 * end-to-end tests use real ptys). The mock binding must be the one serialport itself uses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import { SerialPortMock } from 'serialport';
import { decodeFrame, MavEncoder, MavFramer } from './wire.js';

const PATH = '/dev/kestrel-mock-fc';

afterEach(() => SerialPortMock.binding.reset());

function open(): Promise<SerialPortMock> {
  SerialPortMock.binding.createPort(PATH, { echo: false, record: true });
  return new Promise((resolve, reject) => {
    const p = new SerialPortMock({ path: PATH, baudRate: 921600, autoOpen: false });
    p.open((e) => (e ? reject(e) : resolve(p)));
  });
}

describe('framing over a mock serial port', () => {
  it('frames what arrives in odd chunks, and what we write is valid MAVLink 2', async () => {
    const port = await open();
    const framer = new MavFramer();
    const got: number[] = [];
    port.on('data', (d: Buffer) => { for (const f of framer.push(d)) got.push(f.msgid); });
    const enc = new MavEncoder({ sysid: 1, compid: 1 });
    const hb = new minimal.Heartbeat();
    hb.type = minimal.MavType.QUADROTOR;
    hb.autopilot = minimal.MavAutopilot.PX4;
    hb.baseMode = minimal.MavModeFlag.CUSTOM_MODE_ENABLED;
    hb.customMode = 0;
    hb.systemStatus = minimal.MavState.STANDBY;
    hb.mavlinkVersion = 3;
    const att = new common.Attitude();
    Object.assign(att, { timeBootMs: 1, roll: 0, pitch: 0, yaw: 1, rollspeed: 0, pitchspeed: 0, yawspeed: 0 });
    const bytes = Buffer.concat([enc.encode(hb), Buffer.from([0x00, 0xfd, 0x01]), enc.encode(att), enc.encode(hb)]);
    for (let i = 0; i < bytes.length; i += 5) port.port?.emitData(bytes.subarray(i, i + 5));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([0, 30, 0]);

    const out = new MavEncoder({ sysid: 1, compid: 191 });
    const cmd = new common.CommandLong();
    Object.assign(cmd, { targetSystem: 1, targetComponent: 1, command: common.MavCmd.COMPONENT_ARM_DISARM, confirmation: 0, _param1: 1, _param2: 0, _param3: 0, _param4: 0, _param5: 0, _param6: 0, _param7: 0 });
    await new Promise<void>((resolve, reject) => port.write(out.encode(cmd), (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => port.drain(() => resolve()));
    const rec = port.port?.recording ?? Buffer.alloc(0);
    const frames = new MavFramer().push(rec);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ version: 2, sysid: 1, compid: 191, msgid: 76 });
    const decoded = decodeFrame(frames[0]) as InstanceType<typeof common.CommandLong>;
    expect(decoded.command).toBe(common.MavCmd.COMPONENT_ARM_DISARM);
    expect(decoded._param1).toBe(1);
    await new Promise<void>((r) => port.close(() => r()));
  });
});
