import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { shapeToGbnf } from '../../../lib/llm/grammar.js';
import { ruleSetShape } from '../../../lib/rules/dsl.js';
import { planShape } from '../../../nodes/planner/plan.js';
import { exampleLine, splitExamples, writeCorpus, type CorpusCounts } from './gen.js';
import { lineErrors, shapeToRegex, type CorpusLine } from './check.js';
import { FAMILIES } from './intent.js';
import { planExample } from './plan.js';
import { Rng } from './rng.js';
import { alertSummary, reasonFits, situationReasons } from '../../../nodes/planner/reasons.js';
import { actionsOf } from '../format.js';

const SMALL: CorpusCounts = { intent: { train: 600, val: 100, heldout: 200 }, plan: { train: 200, val: 50, heldout: 50 } };

describe('corpus generator', () => {
  it('same seed → byte-identical files; another seed → different ones', () => {
    const a = mkdtempSync(join(tmpdir(), 'lmc-'));
    const b = mkdtempSync(join(tmpdir(), 'lmc-'));
    try {
      const tiny: CorpusCounts = { intent: { train: 200, val: 20, heldout: 20 }, plan: { train: 50, val: 10, heldout: 10 } };
      writeCorpus(7, a, tiny);
      writeCorpus(7, b, tiny);
      for (const f of ['train.jsonl', 'val.jsonl', 'heldout.jsonl', 'stats.json']) expect(readFileSync(join(a, f))).toEqual(readFileSync(join(b, f)));
      const other = [...splitExamples(8, 'train', tiny)].map(exampleLine).join('\n');
      expect(other).not.toBe(readFileSync(join(a, 'train.jsonl'), 'utf8').trimEnd());
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it('v2 keeps v1 heldout byte for byte (rounds compare on the same lines) and adds its families to train only', () => {
    const c: CorpusCounts = { intent: { train: 400, val: 0, heldout: 150 }, plan: { train: 0, val: 0, heldout: 0 } };
    const held = (v: 'v1' | 'v2'): string => [...splitExamples(2, 'heldout', c, new Set(), v)].map(exampleLine).join('\n');
    expect(held('v2')).toBe(held('v1'));
    const v1 = new Set([...splitExamples(2, 'train', c, undefined, 'v1')].map((e) => e.family));
    const v2 = new Set([...splitExamples(2, 'train', c, undefined, 'v2')].map((e) => e.family));
    const added = [...v2].filter((f) => !v1.has(f));
    expect(added.length).toBeGreaterThanOrEqual(4);
    for (const f of added) expect(FAMILIES.find((x) => x.id === f)?.since).toBe('v2');
  });

  it('v3 keeps v1 heldout too, adds terse fragments and tiered pairs to train, and every v3 line is well formed', () => {
    const c: CorpusCounts = { intent: { train: 600, val: 0, heldout: 150 }, plan: { train: 0, val: 0, heldout: 0 } };
    expect([...splitExamples(2, 'heldout', c, new Set(), 'v3')].map(exampleLine).join('\n')).toBe([...splitExamples(2, 'heldout', c, new Set(), 'v1')].map(exampleLine).join('\n'));
    const train = [...splitExamples(2, 'train', c, undefined, 'v3')];
    const v2 = new Set([...splitExamples(2, 'train', c, undefined, 'v2')].map((e) => e.family));
    const added = new Set(train.map((e) => e.family).filter((f) => !v2.has(f)));
    expect([...added].sort()).toEqual(['count.terse', 'multi.tiers']);
    const tiers = train.filter((e) => e.family === 'multi.tiers');
    for (const e of tiers) expect(JSON.parse(e.output)).toMatchObject({ rules: [{ kind: 'count' }, { kind: 'count' }] });
    const bad = train.map((e) => ({ e, errs: lineErrors(e, { grammar: false }) })).filter((x) => x.errs.length > 0);
    expect(bad.slice(0, 3)).toEqual([]);
  });

  const lines: CorpusLine[] = (['train', 'val', 'heldout'] as const).flatMap((s) => [...splitExamples(1, s, SMALL, new Set())]);

  it('every line is producible by the grammar, parses and validates against its own vocabulary', () => {
    // The grammar regex on every 25th line (a regex per vocabulary is slow to compile), the rest exactly re-formatted.
    const bad = lines.map((e, i) => ({ e, errs: lineErrors(e, { grammar: i % 25 === 0 }) })).filter((x) => x.errs.length > 0);
    expect(bad.slice(0, 3)).toEqual([]);
    expect(lines.length).toBe(600 + 100 + 200 + 200 + 50 + 50);
  });

  it('heldout families never appear in train/val, and each kind has one', () => {
    const trainFams = new Set(lines.filter((e) => e.split !== 'heldout' && e.task === 'intent').map((e) => e.family));
    const heldFams = new Set(lines.filter((e) => e.split === 'heldout' && e.task === 'intent').map((e) => e.family));
    for (const f of heldFams) expect(trainFams.has(f)).toBe(false);
    for (const kind of ['count', 'dwell', 'unattended', 'proximity']) expect(FAMILIES.some((f) => f.kind === kind && f.heldout)).toBe(true);
    expect([...heldFams].sort()).toEqual(['count.watch', 'dwell.still', 'multi.plus', 'proximity.less', 'refusal.injection_mixed', 'unattended.sitting']);
    // Plan heldout uses its own missions.
    const missions = (split: string): Set<string> => new Set(lines.filter((e) => e.task === 'plan' && e.split === split).map((e) => e.system.split('\n')[0]));
    for (const m of missions('heldout')) expect(missions('train').has(m)).toBe(false);
  });

  it('refusals are ~8% of intents and outputs are compact JSON with at most one decimal', () => {
    const intents = lines.filter((e) => e.task === 'intent' && e.split === 'train');
    const refusals = intents.filter((e) => e.output === '{"rules":[]}').length / intents.length;
    expect(refusals).toBeGreaterThan(0.05);
    expect(refusals).toBeLessThan(0.12);
    for (const e of lines) {
      expect(e.output).not.toMatch(/\s(?=(?:[^"]*"[^"]*")*[^"]*$)/);
      expect(e.output).not.toMatch(/\d\.\d\d|\.0[,}]/);
    }
  });

  it('the regex mirrors shapeToGbnf: same alternatives, same digit bounds', () => {
    const shape = ruleSetShape({ classes: ['person'], regions: ['queue'] }, { minItems: 0 });
    expect(shapeToGbnf(shape)).toContain('"[" (');
    const re = new RegExp(`^${shapeToRegex(shape)}$`);
    expect(re.test('{"rules":[]}')).toBe(true);
    const rule = '{"kind":"count","class_id":"person","region":"queue","op":">","threshold":10,"duration_s":0,"radius_m":0,"companion_class":"","hysteresis":1,"severity":"warning","reaction":"none"}';
    expect(re.test(`{"rules":[${rule}]}`)).toBe(true);
    expect(re.test(`{"rules":[${rule.replace('10', '0.75')}]}`)).toBe(false);
    expect(re.test(`{"rules":[${rule.replace('10', '1000')}]}`)).toBe(false);
    expect(re.test(`{"rules":[${rule.replace('"queue"', '"gate"')}]}`)).toBe(false);
    expect(re.test(`{"rules":[${[rule, rule, rule, rule, rule].join(',')}]}`)).toBe(false);
    const plan = new RegExp(`^${shapeToRegex(planShape(['hold', 'orbit']))}$`);
    expect(plan.test('{"action":"orbit","target":{"x":12.3,"y":-4.5,"z":20},"speed":3,"radius":8,"track_id":17,"reason":"orbit #17: unattended bag"}')).toBe(true);
    expect(plan.test('{"action":"land","target":{"x":0,"y":0,"z":0},"speed":0,"radius":0,"track_id":0,"reason":""}')).toBe(false);
  });

  it("every teacher reason is one of the reasons the planner's grounded decoding allows for that situation (read from the prompt alone)", () => {
    let plans = 0;
    for (let i = 0; i < 3000; i++) {
      const e = planExample(new Rng(i, 'reasons'), i % 2 ? 'train' : 'heldout');
      const plan = JSON.parse(e.output) as { action: string; track_id: number; reason: string };
      const reasons = situationReasons(e.user, actionsOf(e.system));
      expect(reasons.map((r) => r.text)).toContain(plan.reason);
      // And it fits the teacher's own plan: the action, and the track of an orbit or track.
      expect(reasonFits(reasons, plan)).toBe(true);
      plans++;
    }
    expect(plans).toBe(3000);
    // A rule id, a region or a track the situation does not hold is not among them.
    const e = planExample(new Rng(7, 'reasons'), 'train');
    expect(situationReasons(e.user, actionsOf(e.system)).some((r) => /r99_9|gate_99|#99999/.test(r.text))).toBe(false);
  });

  it('the teacher orbits an unattended bag with the spec reason and holds without alerts', () => {
    const orbit = lines.find((e) => e.task === 'plan' && e.output.includes('"action":"orbit"'));
    expect(orbit?.output).toMatch(/"speed":3,"radius":8,"track_id":\d+,"reason":"orbit #\d+: /);
    expect(lines.some((e) => e.task === 'plan' && e.user.includes('Alerts: none.') && !/battery (\d|1\d|2[0-4])%/.test(e.user) && !e.output.includes('"no alerts: holding"'))).toBe(false);
    expect(alertSummary('bag in concourse with no person within 3 m for 30 s')).toBe('unattended bag in concourse');
    expect(alertSummary('person staying in gate_3 longer than 120 s')).toBe('person loitering in gate_3');
  });
});
