/**
 * Runs scenarios through the real pipeline nodes with a perfect detector (the renderer's
 * labels become /detections): simulator → tracker → fusion → intent (pattern compiler) →
 * rules. Checks that each expected rule alert first fires inside its window and that the
 * control run raises no alert. This validates a scenario's data (intent text, regions,
 * windows) against the nodes, independently of the detector's accuracy. Exit 1 on a miss.
 *
 *   npx tsx app/sim-tools/oracle.ts [passport-queue stranded-bag perimeter-patrol]
 */
import { join } from 'node:path';
import type { kestrel_msgs } from '../../msgs/index.js';
import { runVirtual } from '../eval/driver.js';
import { NODE_REGISTRY } from '../../nodes/index.js';
import { SimClock } from '../../runtime/clock.js';
import { KESTREL_ROOT, resolveLaunch } from '../../runtime/launch/index.js';
import { Container } from '../../runtime/container.js';
import type { ParamOverride, ParamValue } from '../../runtime/params.js';
import { QOS_LATCHED } from '../../runtime/qos.js';
import { timeToMs } from '../../runtime/time.js';
import { scenarioParams } from './scenario-params.js';
import { absoluteWindow, describeWindow, listScenarios, loadScenario, type Scenario } from '../../sim/scenario.js';

const ORACLE_LAUNCH = join(KESTREL_ROOT, 'launch', 'scenario_oracle.launch.yaml');
const INT_PARAMS = new Set(['camera.width', 'camera.height']);

function overrides(o: Record<string, ParamValue>): Map<string, ParamOverride> {
  return new Map(
    Object.entries(o).map(([k, value]) => {
      const type = typeof value === 'boolean' ? 'bool' : typeof value === 'string' ? 'string' : Array.isArray(value) ? 'double[]' : INT_PARAMS.has(k) ? 'int' : 'double';
      return [k, { value, type, source: 'app/sim-tools/oracle.ts' } as ParamOverride];
    }),
  );
}

interface Onset {
  t: number;
  rule: kestrel_msgs.Rule | undefined;
}

async function run(s: Scenario): Promise<{ onsets: Onset[]; rules: kestrel_msgs.Rule[]; truthOnsets: Map<string, number> }> {
  const registry = NODE_REGISTRY;
  const clock = new SimClock(0);
  const c = new Container({ clock, registry, logSink: () => undefined });
  // The nodes come from the launch file; the scenario's parameters go over its own, node by node.
  const resolved = resolveLaunch(ORACLE_LAUNCH, { scenario: s.name, control: String(s.control) }, { defaultNodeName: (_pkg, exec) => registry.get(exec)?.name });
  const sp = scenarioParams(s);
  for (const n of resolved.nodes) await c.add({ ...n, params: new Map([...n.params, ...overrides(sp[n.executable] ?? {})]) });
  let rules: kestrel_msgs.Rule[] = [];
  c.bus.subscribe('/rules', 'kestrel_msgs/msg/RuleSet', QOS_LATCHED).subscribe((r) => (rules = r.rules));
  const onsets: Onset[] = [];
  const active = new Set<string>();
  c.bus.subscribe('/alerts', 'kestrel_msgs/msg/AlertArray').subscribe((a) => {
    const now = new Set(a.alerts.filter((x) => x.active).map((x) => x.rule_id));
    for (const id of now) if (!active.has(id)) onsets.push({ t: timeToMs(a.header.stamp) / 1000, rule: rules.find((r) => r.id === id) });
    active.clear();
    for (const id of now) active.add(id);
  });
  // First ground-truth onset of each event: where an onset-relative window (after_onset_s) sits.
  const truthOnsets = new Map<string, number>();
  c.bus.subscribe('/sim/events', 'kestrel_msgs/msg/ScenarioEvent', { ...QOS_LATCHED, depth: 16 }).subscribe((e) => {
    if (e.active && !truthOnsets.has(e.name)) truthOnsets.set(e.name, timeToMs(e.header.stamp) / 1000);
  });
  await c.activateAll();
  await runVirtual(clock, c.compute, s.duration_s * 1000);
  await c.shutdownAll();
  return { onsets, rules, truthOnsets };
}

function matches(rule: kestrel_msgs.Rule | undefined, want: Record<string, string | number>): boolean {
  if (!rule) return false;
  return Object.entries(want).every(([k, v]) => (rule as unknown as Record<string, unknown>)[k] === v);
}

async function main(): Promise<number> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  let failures = 0;
  for (const name of names.length ? names : listScenarios()) {
    const s = loadScenario(name);
    const r = await run(s);
    for (const ex of s.expected) {
      if (ex.by || !ex.rule) {
        console.log(`${name}: ${ex.event}: handled by ${ex.by ?? 'another component'}, not checked here`);
        continue;
      }
      const first = r.onsets.find((o) => matches(o.rule, ex.rule ?? {}));
      const onset = r.truthOnsets.get(ex.event);
      const w = absoluteWindow(ex, onset);
      const ok = first !== undefined && w !== null && first.t >= w[0] && first.t <= w[1];
      if (!ok) failures++;
      const where = w ? `window ${describeWindow(ex)}: [${w.map((v) => v.toFixed(1)).join(', ')}]` : `window ${describeWindow(ex)}: the event never started`;
      console.log(`${name}: ${ex.event}: ${first ? `first alert at ${first.t.toFixed(1)} s` : 'no matching alert'}${onset !== undefined ? `, truth onset ${onset.toFixed(1)} s` : ''} (${where}) ${ok ? 'OK' : 'MISSED'}`);
    }
    if (r.rules.length === 0) {
      failures++;
      console.log(`${name}: the intent compiled to no rules`);
    }
    const control = await run(loadScenario(name, { control: true }));
    if (control.onsets.length > 0) failures++;
    console.log(`${name} (control): ${control.onsets.length === 0 ? 'no alert OK' : `FALSE ALERTS at ${control.onsets.map((o) => o.t.toFixed(1)).join(', ')} s`}`);
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).stack ?? String(e));
    process.exit(1);
  },
);
