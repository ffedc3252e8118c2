/**
 * The DDS transport against the independent implementation it must interoperate with, in the same run:
 * - round trip: a std_msgs/String of 64 bytes out, echoed back by a Fast DDS 2.9 peer, Kestrel (Cyclone DDS
 *   through koffi, msgs/ codecs) ↔ Fast DDS against Fast DDS ↔ Fast DDS (the peer's own ping through the same echo);
 * - throughput: a burst of reliable samples, Kestrel → Fast DDS and Fast DDS → Kestrel, against Fast DDS → Fast DDS.
 * All on loopback, in a DDS domain of its own. Needs cyclonedds-dev, libfastrtps-dev and g++ (the peer is built on
 * first use, see runtime/transport/dds/interop/peer.ts).
 */
import { makeMsg } from '../msgs/index.js';
import { cycloneUnavailable } from '../runtime/transport/dds/cyclone.js';
import { DdsTransport } from '../runtime/transport/dds/dds.js';
import { FastDdsPeer, peerUnavailable } from '../runtime/transport/dds/interop/peer.js';
import type { QoS } from '../runtime/qos.js';
import { defineBench, stats } from './harness.js';

const PINGS = 500;
// Within the writers' and readers' keep-last depth (1000), so a reliable burst arrives whole.
const BURST = 1000;
const SIZE = 64;
const STRING = 'std_msgs::msg::dds_::String_';
const QOS: QoS = { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 1000 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hr = (): number => Number(process.hrtime.bigint()) / 1e3; // µs

/** The peer's string_of_size(): i in decimal, padded to SIZE serialized bytes. */
const payload = (i: number): string => String(i).padEnd(SIZE - 8, 'x');

export default defineBench({
  name: 'dds',
  description: 'DDS transport: Kestrel↔Fast DDS round trip and throughput against Fast DDS↔Fast DDS, loopback',
  async run() {
    const why = cycloneUnavailable() ?? peerUnavailable();
    if (why) throw new Error(`cannot run: ${why}`);
    const domain = 200 + (process.pid % 30);
    const echo = await FastDdsPeer.start(domain);
    const other = await FastDdsPeer.start(domain);
    const k = DdsTransport.create({ nodeName: 'kestrel_bench', domainId: domain });
    try {
      // Fast DDS ↔ Fast DDS: the same echo peer answers both pingers.
      await echo.command(`echo rt/ping rt/pong ${STRING} reliable`);
      await echo.command(`echo rt/kping rt/kpong ${STRING} reliable`);
      other.send(`ping rt/ping rt/pong ${STRING} reliable ${PINGS} ${SIZE}`);
      const base = await other.waitFor((e) => e.ev === 'ping', 120_000, 'Fast DDS ping');

      // Kestrel ↔ Fast DDS: publish, wait for the echo, next.
      let waiting: { i: number; resolve: () => void } | undefined;
      k.bridgeIn('/kpong', 'std_msgs/msg/String', QOS, (m) => {
        const i = parseInt((m as { data: string }).data, 10);
        if (waiting && waiting.i === i) waiting.resolve();
      });
      const out = k.bridgeOut('/kping', 'std_msgs/msg/String', QOS);
      await echo.waitFor((e) => e.ev === 'matched' && e.topic === 'rt/kping', 10_000, 'echo matching Kestrel');
      await sleep(300);
      const rtt: number[] = [];
      let lost = 0;
      for (let i = 0; i < PINGS; i++) {
        const t0 = hr();
        const back = new Promise<boolean>((resolve) => {
          waiting = { i, resolve: () => resolve(true) };
          setTimeout(() => resolve(false), 1000);
        });
        out.publish(makeMsg('std_msgs/msg/String', { data: payload(i) }));
        if (await back) rtt.push(hr() - t0);
        else lost++;
      }
      const kr = stats(rtt);

      // What the last `count` reader got, first to last sample, once the burst has had a second to settle.
      const report = async (): Promise<{ n: number; seconds: number }> => {
        await sleep(1000);
        const start = echo.events.length;
        echo.send('report');
        const e = await echo.waitFor((x) => x.ev === 'report' && echo.events.indexOf(x) >= start, 10_000, 'report');
        return { n: Number(e.n), seconds: Number(e.seconds) };
      };

      // Throughput, Fast DDS → Fast DDS.
      await echo.command(`count rt/flood ${STRING} reliable ${BURST}`);
      other.send(`flood rt/flood ${STRING} reliable ${BURST} ${SIZE}`);
      await other.waitFor((e) => e.ev === 'flooded', 60_000, 'Fast DDS burst sent');
      const ff = await report();

      // Kestrel → Fast DDS.
      await echo.command(`count rt/kflood ${STRING} reliable ${BURST}`);
      const kout = k.bridgeOut('/kflood', 'std_msgs/msg/String', QOS);
      await echo.waitFor((e) => e.ev === 'matched' && e.topic === 'rt/kflood', 10_000, 'count matching Kestrel');
      await sleep(300);
      const tk0 = hr();
      for (let i = 0; i < BURST; i++) kout.publish(makeMsg('std_msgs/msg/String', { data: payload(i) }));
      const kSendS = (hr() - tk0) / 1e6;
      const kf = await report();

      // Fast DDS → Kestrel.
      let n = 0;
      let t1 = 0;
      let tLast = 0;
      k.bridgeIn('/fflood', 'std_msgs/msg/String', QOS, () => {
        if (n++ === 0) t1 = hr();
        tLast = hr();
      });
      other.send(`flood rt/fflood ${STRING} reliable ${BURST} ${SIZE}`);
      await other.waitFor((e) => e.ev === 'flooded' && e !== other.events.find((x) => x.ev === 'flooded'), 60_000, 'Fast DDS burst to Kestrel sent');
      const deadline = performance.now() + 5000;
      while (n < BURST && performance.now() < deadline) await sleep(20);
      const fkS = (tLast - t1) / 1e6;

      const rate = (count: number, s: number): number => (s > 0 ? count / s : 0);
      const figures = {
        fastdds_rtt_p50_us: Number(base.p50_us),
        fastdds_rtt_p99_us: Number(base.p99_us),
        kestrel_rtt_p50_us: kr.p50,
        kestrel_rtt_p99_us: kr.p99,
        kestrel_rtt_p50_vs_fastdds: kr.p50 / Number(base.p50_us),
        fastdds_to_fastdds_msgs_per_s: rate(ff.n, ff.seconds),
        kestrel_to_fastdds_msgs_per_s: rate(kf.n, kf.seconds),
        fastdds_to_kestrel_msgs_per_s: rate(n, fkS),
        kestrel_to_fastdds_vs_fastdds: rate(kf.n, kf.seconds) / rate(ff.n, ff.seconds),
        fastdds_to_kestrel_vs_fastdds: rate(n, fkS) / rate(ff.n, ff.seconds),
      };
      return {
        figures,
        goals: [
          { name: 'Kestrel↔Fast DDS RTT p50 / Fast DDS↔Fast DDS', value: figures.kestrel_rtt_p50_vs_fastdds, op: '<=', target: 3 },
          { name: 'Kestrel→Fast DDS msgs/s / Fast DDS→Fast DDS', value: figures.kestrel_to_fastdds_vs_fastdds, op: '>=', target: 0.3 },
          { name: 'Fast DDS→Kestrel msgs/s / Fast DDS→Fast DDS', value: figures.fastdds_to_kestrel_vs_fastdds, op: '>=', target: 0.3 },
        ],
        details: { pings: PINGS, burst: BURST, size: SIZE, kestrel_lost: lost, fastdds_ping: base, fastdds_to_fastdds_received: ff.n, kestrel_to_fastdds_received: kf.n, fastdds_to_kestrel_received: n, kestrel_send_s: kSendS, stats: k.stats },
        summary:
          `RTT p50 ${kr.p50.toFixed(0)} µs Kestrel↔Fast DDS vs ${Number(base.p50_us).toFixed(0)} µs Fast DDS↔Fast DDS ` +
          `(${figures.kestrel_rtt_p50_vs_fastdds.toFixed(2)}×); ${Math.round(figures.kestrel_to_fastdds_msgs_per_s)} msgs/s Kestrel→Fast DDS, ` +
          `${Math.round(figures.fastdds_to_kestrel_msgs_per_s)} Fast DDS→Kestrel, ${Math.round(figures.fastdds_to_fastdds_msgs_per_s)} Fast DDS→Fast DDS`,
      };
    } finally {
      await other.stop();
      await echo.stop();
      await k.close();
    }
  },
});
