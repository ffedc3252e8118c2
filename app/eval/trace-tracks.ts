/**
 * Debug aid: one scenario run with the real detector, printing once a second the tracks of a
 * class (id, ground position, hits/misses) and the ground-truth labels of that class, to see
 * where a rule's evidence breaks (missed detections, id switches, phantom companions).
 *   npx tsx app/eval/trace-tracks.ts stranded-bag [--seed 101] [--class bag] [--from 40] [--set perception.model_path=...]
 * With `--region queue`, the tracks of the class in that region against the visible true objects
 * there instead: each track's distance to the nearest true object shows duplicates (two tracks on
 * one person) and phantoms (no person near).
 *   npx tsx app/eval/trace-tracks.ts passport-queue --seed 103 --class person --region queue --from 25 --to 45
 */
import { parseArgs } from 'node:util';
import type { kestrel_msgs } from '../../msgs/index.js';
import { timeToMs } from '../../runtime/time.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { traceMission } from './scenario-run.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string', default: '' }, class: { type: 'string', default: 'bag' }, from: { type: 'string', default: '0' }, to: { type: 'string', default: '1e9' }, control: { type: 'boolean', default: false }, region: { type: 'string', default: '' }, set: { type: 'string', multiple: true, default: [] } } });
const params: Record<string, Record<string, number | string | boolean>> = { planner: { rate_hz: 0.2 } };
for (const s of values.set) {
  const m = /^([a-z_]+)\.([\w.]+)=(.*)$/.exec(s);
  if (m) (params[m[1]] ??= {})[m[2]] = m[3] === 'true' ? true : m[3] === 'false' ? false : Number.isFinite(Number(m[3])) ? Number(m[3]) : m[3];
}
let t0: number | undefined;
const printRegion = (s: number, w: kestrel_msgs.WorldState): void => {
  const inRegion = w.tracks.filter((k) => k.class_id === cls && k.regions.includes(values.region));
  const truth = (labels?.labels ?? []).filter((l) => l.class_id === cls && l.visible && l.regions.includes(values.region));
  const fmt = (k: kestrel_msgs.Track): string => {
    const d = Math.min(...truth.map((l) => Math.hypot(l.position.x - k.position.x, l.position.y - k.position.y)));
    const twins = inRegion.filter((o) => o !== k && Math.hypot(o.position.x - k.position.x, o.position.y - k.position.y) < 0.5).length;
    return `#${k.id}(x${k.position.x.toFixed(1)} h${k.hits} m${k.misses} s${k.score.toFixed(2)} d${d.toFixed(1)}${twins ? ' TWIN' : ''})`;
  };
  console.log(`${s.toFixed(1)} s: ${inRegion.length} ${cls} tracks in ${values.region} (truth ${truth.length} visible): ${inRegion.map(fmt).join(' ')}`);
};
let lastPrint = -1;
let labels: kestrel_msgs.LabelArray | undefined;
const cls = values.class;
await traceMission({
  scenario: positionals[0],
  control: values.control,
  seed: values.seed,
  durationS: Number(values.to) < 1e9 ? Number(values.to) : 75,
  params,
  onBus: (bus) => {
    bus.subscribe('/camera/labels', 'kestrel_msgs/msg/LabelArray', QOS_SENSOR_DATA).subscribe((l) => (labels = l));
    bus.subscribe('/world', 'kestrel_msgs/msg/WorldState').subscribe((w) => {
      const t = timeToMs(w.header.stamp);
      t0 ??= t;
      const s = (t - t0) / 1000;
      if (Math.floor(s) === lastPrint || s < Number(values.from) || s > Number(values.to)) return;
      lastPrint = Math.floor(s);
      if (values.region) {
        printRegion(s, w);
        return;
      }
      const mine = w.tracks.filter((k) => k.class_id === cls);
      const fmt = (k: kestrel_msgs.Track) => `#${k.id}(${k.position.x.toFixed(1)},${k.position.y.toFixed(1)} h${k.hits} m${k.misses})`;
      const near = (k: kestrel_msgs.Track) => w.tracks.filter((o) => o.class_id !== cls && Math.hypot(o.position.x - k.position.x, o.position.y - k.position.y) <= 3).map((o) => `${o.class_id[0]}${o.id}@${Math.hypot(o.position.x - k.position.x, o.position.y - k.position.y).toFixed(1)}`);
      const gt = labels?.labels.filter((l) => l.class_id === cls && l.visible).length ?? 0;
      console.log(`${s.toFixed(1)} s: ${mine.length} ${cls} tracks (truth ${gt} visible): ${mine.map((k) => `${fmt(k)} near[${near(k).join(' ')}]`).join('  ')}`);
    });
  },
});
