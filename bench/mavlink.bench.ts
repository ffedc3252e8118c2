/**
 * MAVLink bridge through a real socat pty pair at 921600 baud:
 * - command-to-wire latency: /cmd published on the bus → its SET_POSITION_TARGET_LOCAL_NED
 *   frame parsed at the far end of the pty, against the bare pty latency (a small write on
 *   one end → read on the other, plain serialport) measured in the same run;
 * - parsed messages/s: telemetry bursts written to the pty and decoded by the bridge, against
 *   the raw byte throughput of the same pty, and against what a real 921600-baud line carries.
 */
import { common, minimal } from 'node-mavlink';
import { SerialPort } from 'serialport';
import { makeMsg } from '../msgs/index.js';
import { SystemClock } from '../runtime/clock.js';
import { Container } from '../runtime/container.js';
import { msToTime } from '../runtime/time.js';
import { mavlinkNode } from '../nodes/mavlink/index.js';
import { paramMap } from '../test/support/mavlink-rig.js';
import { MavEncoder, MavFramer, decodeFrame } from '../lib/mavlink/wire.js';
import { startPtyPair } from '../sim/fc/pty.js';
import { defineBench, stats } from './harness.js';

const BAUD = 921600;
const LATENCY_SAMPLES = 300;
const BURST_MESSAGES = 20000;

const hr = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: BAUD, autoOpen: false });
    p.open((e) => (e ? reject(e) : resolve(p)));
  });
}

function closePort(p: SerialPort): Promise<void> {
  return new Promise((resolve) => (p.isOpen ? p.close(() => resolve()) : resolve()));
}

/** Bare pty: one small write → first byte read on the other end. */
async function rawLatency(a: SerialPort, b: SerialPort, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const got = new Promise<number>((resolve) => b.once('data', () => resolve(hr())));
    const t0 = hr();
    a.write(Buffer.alloc(40, i & 0xff));
    out.push((await got) - t0);
  }
  return out;
}

/** Bare pty throughput in bytes/s for `total` bytes written in 4 KiB chunks. */
async function rawThroughput(a: SerialPort, b: SerialPort, total: number): Promise<number> {
  let got = 0;
  const done = new Promise<number>((resolve) => {
    const on = (d: Buffer): void => {
      got += d.length;
      if (got >= total) {
        b.off('data', on);
        resolve(hr());
      }
    };
    b.on('data', on);
  });
  const chunk = Buffer.alloc(4096, 0x55);
  const t0 = hr();
  for (let sent = 0; sent < total; sent += chunk.length) a.write(chunk);
  const t1 = await done;
  return (total / (t1 - t0)) * 1000;
}

function attitude(i: number): InstanceType<typeof common.Attitude> {
  const m = new common.Attitude();
  m.timeBootMs = i;
  m.roll = 0.01;
  m.pitch = -0.02;
  m.yaw = (i % 628) / 100;
  m.rollspeed = 0.001;
  m.pitchspeed = 0.002;
  m.yawspeed = 0.003;
  return m;
}

function heartbeat(): InstanceType<typeof minimal.Heartbeat> {
  const m = new minimal.Heartbeat();
  m.type = minimal.MavType.QUADROTOR;
  m.autopilot = minimal.MavAutopilot.PX4;
  m.baseMode = minimal.MavModeFlag.CUSTOM_MODE_ENABLED | minimal.MavModeFlag.SAFETY_ARMED;
  m.customMode = (6 << 16) >>> 0; // OFFBOARD: no mode request traffic during the run
  m.systemStatus = minimal.MavState.ACTIVE;
  m.mavlinkVersion = 3;
  return m;
}

export default defineBench({
  name: 'mavlink',
  description: 'MAVLink bridge over a socat pty at 921600 baud: /cmd → wire latency and parsed messages/s, as ratios to the bare pty',
  async run() {
    const pty = await startPtyPair();
    const clock = new SystemClock();
    const container = new Container({ clock, registry: new Map([['mavlink', mavlinkNode]]), logSink: () => {} });
    let fcPort: SerialPort | undefined;
    try {
      // 1. Bare pty reference, before the bridge holds one end.
      const ra = await openPort(pty.a);
      const rb = await openPort(pty.b);
      await rawLatency(ra, rb, 20); // warm-up
      const raw = await rawLatency(ra, rb, LATENCY_SAMPLES);
      const rawBps = await rawThroughput(ra, rb, 4 * 1024 * 1024);
      await closePort(ra);
      await closePort(rb);

      // 2. The bridge on pty.b, a scripted FC on pty.a (heartbeats, then telemetry bursts).
      const node = await container.add({
        package: 'kestrel', executable: 'mavlink', remaps: [],
        params: paramMap({ port: pty.b, baud: BAUD, stream_rates_hz: [0, 0, 0, 0, 0, 0], setpoint_rate_hz: 10, heartbeat_timeout_ms: 5000, state_rate_hz: 200 }),
      });
      await node.activate();
      fcPort = await openPort(pty.a);
      const fc = fcPort;
      const enc = new MavEncoder({ sysid: 1, compid: 1 });
      const framer = new MavFramer();
      let waiting: { x: number; resolve: (t: number) => void } | undefined;
      fc.on('data', (d: Buffer) => {
        const t = hr();
        for (const f of framer.push(d)) {
          if (f.msgid !== 84 || !waiting) continue;
          const sp = decodeFrame(f) as InstanceType<typeof common.SetPositionTargetLocalNed>;
          // ENU x becomes NED y on the wire.
          if (Math.abs(sp.y - waiting.x) < 1e-3) {
            const w = waiting;
            waiting = undefined;
            w.resolve(t);
          }
        }
      });
      const hb = setInterval(() => fc.write(enc.encode(heartbeat())), 200);
      fc.write(enc.encode(heartbeat()));
      const pub = container.bus.advertise('/cmd', 'kestrel_msgs/msg/VehicleCommand');
      await sleep(500);

      const lat: number[] = [];
      for (let i = 0; i < LATENCY_SAMPLES + 20; i++) {
        const x = 1 + i * 0.5;
        const arrived = new Promise<number>((resolve) => { waiting = { x, resolve }; });
        const now = clock.now();
        const t0 = hr();
        pub.publish(makeMsg('kestrel_msgs/msg/VehicleCommand', {
          header: { stamp: msToTime(now), frame_id: 'map' }, seq: i, action: 'goto', target: { x, y: 0, z: 5 }, source: 'bench', valid_until: msToTime(now + 1000),
        }));
        const t1 = await arrived;
        if (i >= 20) lat.push(t1 - t0);
        await sleep(2);
      }

      // Parsed messages/s: write a burst, wait until the bridge has decoded all of it.
      const diag = container.diagnostics.forNode('/mavlink');
      const rx0 = (): number => Number(diag.values.rx ?? 0);
      const frames = Array.from({ length: BURST_MESSAGES }, (_, i) => enc.encode(attitude(i)));
      const frameBytes = frames[0].length;
      const burst = Buffer.concat(frames);
      // /diagnostics values refresh with /fc/state; read the endpoint counter through them.
      await sleep(200);
      const before = rx0();
      const t0 = hr();
      for (let off = 0; off < burst.length; off += 4096) fc.write(burst.subarray(off, off + 4096));
      const deadline = t0 + 60000;
      while (rx0() - before < BURST_MESSAGES && hr() < deadline) await sleep(1);
      const elapsed = hr() - t0;
      const parsed = rx0() - before;
      clearInterval(hb);
      const msgsPerS = (parsed / elapsed) * 1000;

      const r = stats(raw);
      const l = stats(lat);
      // 10 bits per byte on a UART (start + 8 data + stop).
      const lineMsgsPerS = BAUD / 10 / frameBytes;
      const rawMsgsPerS = rawBps / frameBytes;
      const figures = {
        cmd_to_wire_p50_ms: l.p50,
        cmd_to_wire_p99_ms: l.p99,
        raw_pty_p50_ms: r.p50,
        cmd_to_wire_p50_vs_raw_pty: l.p50 / r.p50,
        cmd_to_wire_p99_vs_raw_pty: l.p99 / r.p99,
        parsed_msgs_per_s: msgsPerS,
        parsed_vs_raw_pty_frames: msgsPerS / rawMsgsPerS,
        parsed_vs_921600_line: msgsPerS / lineMsgsPerS,
      };
      return {
        figures,
        goals: [
          { name: 'cmd→wire p50 / bare pty p50', value: figures.cmd_to_wire_p50_vs_raw_pty, op: '<=', target: 3 },
          { name: 'parsed msgs/s / 921600-baud line capacity', value: figures.parsed_vs_921600_line, op: '>=', target: 2 },
        ],
        details: { raw_latency: r, cmd_latency: l, raw_pty_bytes_per_s: rawBps, frame_bytes: frameBytes, parsed, burst_messages: BURST_MESSAGES, elapsed_ms: elapsed },
        summary: `cmd→wire p50 ${l.p50.toFixed(3)} ms (${figures.cmd_to_wire_p50_vs_raw_pty.toFixed(2)}× bare pty), ${Math.round(msgsPerS)} msgs/s parsed (${figures.parsed_vs_921600_line.toFixed(1)}× a 921600-baud line, ${(figures.parsed_vs_raw_pty_frames * 100).toFixed(0)}% of the bare pty)`,
      };
    } finally {
      await container.shutdownAll();
      if (fcPort) await closePort(fcPort);
      await pty.close();
    }
  },
});
