/**
 * Debug aid: one scenario run with the real detector; for each frame in [from, to], the
 * detections (every class, at perception's score threshold, 0.05 here unless --set) within
 * `--radius` px of one ground-truth object's box centre, to tell a detector miss from a tracker
 * that ate or dropped the detection.
 *   npx tsx app/eval/probe-dets.ts stranded-bag --seed 5 --id 10 --from 12 --to 20
 */
import { parseArgs } from 'node:util';
import type { kestrel_msgs, vision_msgs } from '../../msgs/index.js';
import { timeToMs } from '../../runtime/time.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { traceMission } from './scenario-run.js';
import { parseSet } from './sweep.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string', default: '' }, id: { type: 'string', default: '10' }, radius: { type: 'string', default: '12' }, from: { type: 'string', default: '0' }, to: { type: 'string', default: '75' }, control: { type: 'boolean', default: false }, set: { type: 'string', multiple: true, default: [] } } });
const set = parseSet(values.set);
const params = { ...set, planner: { rate_hz: 0.2, ...set.planner }, perception: { score_threshold: 0.05, ...set.perception } };
const labels = new Map<number, kestrel_msgs.LabelArray>();
let t0: number | undefined;
const id = Number(values.id);
const r = Number(values.radius);
await traceMission({
  scenario: positionals[0],
  control: values.control,
  seed: values.seed,
  durationS: Number(values.to) + 1,
  params,
  onBus: (bus) => {
    bus.subscribe('/camera/labels', 'kestrel_msgs/msg/LabelArray', QOS_SENSOR_DATA).subscribe((l) => labels.set(timeToMs(l.header.stamp), l));
    bus.subscribe('/detections', 'vision_msgs/msg/Detection2DArray').subscribe((d: vision_msgs.Detection2DArray) => {
      const t = timeToMs(d.header.stamp);
      const l = labels.get(t);
      labels.delete(t);
      t0 ??= t;
      const s = (t - t0) / 1000;
      if (!l || s < Number(values.from) || s > Number(values.to)) return;
      const me = l.labels.find((x) => x.id === id);
      if (!me) return;
      const cx = me.bbox.center.position.x;
      const cy = me.bbox.center.position.y;
      const near = d.detections
        .map((x) => ({ c: x.results[0]?.hypothesis.class_id ?? '?', s: x.results[0]?.hypothesis.score ?? 0, dx: x.bbox.center.position.x - cx, dy: x.bbox.center.position.y - cy, w: x.bbox.size_x, h: x.bbox.size_y }))
        .filter((x) => Math.hypot(x.dx, x.dy) <= r)
        .map((x) => `${x.c} ${x.s.toFixed(2)} @(${x.dx.toFixed(0)},${x.dy.toFixed(0)}) ${x.w.toFixed(0)}x${x.h.toFixed(0)}`);
      const others = l.labels.filter((x) => x.id !== id && x.visible && Math.hypot(x.bbox.center.position.x - cx, x.bbox.center.position.y - cy) <= r).map((x) => `${x.class_id}${x.id}`);
      console.log(`${s.toFixed(1)} s: ${me.class_id} ${id} ${me.visible ? '' : '(hidden) '}(${me.position.x.toFixed(1)},${me.position.y.toFixed(1)}) ${me.bbox.size_x.toFixed(0)}x${me.bbox.size_y.toFixed(0)} truth-near[${others.join(' ')}]: ${near.join(' | ')}`);
    });
  },
});
