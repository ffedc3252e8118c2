/**
 * `npx tsx models/lm/evaluate.ts [--data models/lm/data/v1] [--n-intent 200] [--n-plan 100] [--quants F16,Q8_0,Q4_0]
 *    [--models models/lm] [--hand models/lm/eval/intents.jsonl] [--out models/lm/eval/results.json]`
 *    --hand: the hand-written set to score (e.g. models/lm/eval/intents-b.jsonl); the output records which.
 *    With --n-intent 0 --n-plan 0 the held-out split is not read (a hand-written set alone).
 * `npx tsx models/lm/evaluate.ts --files kestrel-lm-q4_0.gguf,kestrel-lm-pruned-l2-q4_0.gguf [--lite]
 *    [--out models/lm/eval/variants.json]`: named GGUFs under --models (e.g. the pruned variants), keyed by
 *    file name, written to a separate file; the first file is the reference of the `vs_first` ratios.
 *    --lite skips the no-repair node passes (half the node-path time; the repair comparison is the quants' job);
 *    --interleave adds a timing pass with the models interleaved call by call (fair under a varying load).
 *
 * Runs the Kestrel LM GGUFs through LlmEngine (llama.cpp, 1 thread, greedy, Kestrel GBNF) on the
 * held-out split (families never trained on; a family-stratified subset) and on the hand-written
 * set (--hand, default models/lm/eval/intents.jsonl). Reports, per quantization: intent exact match, per-field
 * accuracy, refusal accuracy, wrong compiles (a non-empty rule set that is not the expected one);
 * plan exact match, action agreement, track agreement and target error vs the teacher; mean
 * latency per compile/plan and generation tokens/s.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LlmEngine, type GenerationResult } from '../../lib/llm/engine.js';
import { parseOutput } from '../../lib/llm/grammar.js';
import type { RuleFields } from '../../lib/rules/dsl.js';
import type { PlanFields } from '../../nodes/planner/plan.js';
import { reasonFits, situationReasons } from '../../nodes/planner/reasons.js';
import { parseIntentCases, scoreIntents, RULE_FIELDS, type IntentCase } from './eval/cases.js';
import { actionsOf, intentPrompt, intentTextOf, shapeFor, vocabularyOf } from './format.js';
import { compileIntent, RESAMPLE_DEFAULTS, type LlmCompiler } from '../../nodes/intent/compile.js';
import { formatRuleSet, REFUSAL } from '../../lib/rules/lm-prompt.js';
import type { Quant } from '../gguf/writer.js';

export interface CorpusRow {
  task: 'intent' | 'plan';
  family: string;
  split?: string;
  system: string;
  user: string;
  output: string;
}

export const readJsonl = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

/** Up to n rows of a task, taken round-robin over families (every held-out family is represented). */
export function stratified(rows: readonly CorpusRow[], task: CorpusRow['task'], n: number): CorpusRow[] {
  const byFam = new Map<string, CorpusRow[]>();
  for (const r of rows) if (r.task === task) byFam.set(r.family, [...(byFam.get(r.family) ?? []), r]);
  const fams = [...byFam.keys()].sort();
  const out: CorpusRow[] = [];
  for (let i = 0; out.length < n; i++) {
    let any = false;
    for (const f of fams) {
      const r = byFam.get(f)![i];
      if (r && out.length < n) { out.push(r); any = true; }
    }
    if (!any) break;
  }
  return out;
}

export interface Gen {
  text: string;
  ok: boolean;
  ms: number;
  tokensPerSecond: number;
  completionTokens: number;
  /** Node path: which compiler's rules were installed, and whether the other one read it differently. */
  path?: 'llm' | 'patterns' | 'refused';
  disagreement?: boolean;
}

export async function generate(e: LlmEngine, task: CorpusRow['task'], system: string, user: string, grounded = false): Promise<Gen> {
  const shape = shapeFor(task, system, user, grounded);
  const grammar = await e.createGrammar(shape);
  const g: GenerationResult = await e.generate({ system, user }, { grammar, maxTokens: task === 'intent' ? 400 : 160 });
  let ok = g.stopReason === 'eos';
  try {
    parseOutput(g.text, shape);
  } catch {
    ok = false;
  }
  return { text: g.text, ok, ms: g.totalMs, tokensPerSecond: g.tokensPerSecond, completionTokens: g.completionTokens };
}

const rulesOf = (text: string): RuleFields[] | null => {
  try {
    const v = JSON.parse(text) as { rules?: RuleFields[] };
    return Array.isArray(v.rules) ? v.rules : null;
  } catch {
    return null;
  }
};

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
// Under load a few calls stall behind other processes; the median is the figure that compares across models.
const median = (xs: readonly number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : 0);
const pct = (a: number, b: number): number => (b ? Math.round((1000 * a) / b) / 10 : 0);

export function intentMetrics(cases: readonly IntentCase[], gens: readonly Gen[], families?: readonly string[]) {
  const pred = gens.map((g) => (g.ok ? rulesOf(g.text) : null));
  const s = scoreIntents(cases, pred);
  let wrong = 0;
  let wrongDisagreed = 0;
  const paths: Record<string, number> = {};
  let falseRefusals = 0;
  let invalid = 0;
  const famHits = new Map<string, [number, number]>();
  cases.forEach((c, i) => {
    const want = JSON.stringify(c.expect.rules);
    const got = pred[i];
    if (!gens[i].ok) invalid++;
    const exact = got !== null && JSON.stringify(got) === want;
    if (got && got.length > 0 && !exact) {
      wrong++;
      if (gens[i].disagreement) wrongDisagreed++;
    }
    const p = gens[i].path;
    if (p) {
      const key = `${p}_${exact || (p === 'refused' && c.expect.rules.length === 0) ? 'right' : 'wrong'}`;
      paths[key] = (paths[key] ?? 0) + 1;
    }
    if (c.expect.rules.length > 0 && (got === null || got.length === 0)) falseRefusals++;
    if (families) {
      const h = famHits.get(families[i]) ?? [0, 0];
      famHits.set(families[i], [h[0] + (exact ? 1 : 0), h[1] + 1]);
    }
  });
  return {
    cases: s.cases,
    exact_pct: pct(s.exact, s.cases),
    exact: s.exact,
    fields_pct: Object.fromEntries(RULE_FIELDS.map((f) => [f, pct(s.fields[f].correct, s.fields[f].total)])),
    refusal_pct: pct(s.refusalsCorrect, s.refusals),
    refusals: s.refusals,
    false_refusals: falseRefusals,
    wrong_compiles: wrong,
    ...(gens.some((g) => g.path) ? { wrong_compiles_with_disagreement: wrongDisagreed, by_path: paths } : {}),
    rule_count_mismatch: s.countMismatch,
    invalid_outputs: invalid,
    mean_ms: Math.round(mean(gens.map((g) => g.ms)) * 10) / 10,
    median_ms: Math.round(median(gens.map((g) => g.ms)) * 10) / 10,
    tokens_per_s: Math.round(mean(gens.filter((g) => g.tokensPerSecond > 0).map((g) => g.tokensPerSecond))),
    mean_completion_tokens: Math.round(mean(gens.map((g) => g.completionTokens)) * 10) / 10,
    ...(families ? { per_family_exact_pct: Object.fromEntries([...famHits].sort().map(([f, [h, n]]) => [f, pct(h, n)])) } : {}),
  };
}

export function planMetrics(rows: readonly CorpusRow[], gens: readonly Gen[]) {
  let exact = 0;
  let action = 0;
  let track = 0;
  let reasonTrue = 0;
  let reasonRight = 0;
  let reasonFit = 0;
  const errs: number[] = [];
  let invalid = 0;
  rows.forEach((r, i) => {
    const want = JSON.parse(r.output) as PlanFields;
    if (!gens[i].ok) { invalid++; return; }
    const got = JSON.parse(gens[i].text) as PlanFields;
    if (gens[i].text === r.output) exact++;
    // A reason is true when it is one the situation supports (whatever the plan does), right when it is the teacher's.
    const reasons = situationReasons(r.user, actionsOf(r.system));
    if (reasons.some((x) => x.text === got.reason)) reasonTrue++;
    if (reasonFits(reasons, got)) reasonFit++;
    if (got.reason === want.reason) reasonRight++;
    if (got.action === want.action) {
      action++;
      if (got.track_id === want.track_id) track++;
      errs.push(Math.hypot(got.target.x - want.target.x, got.target.y - want.target.y, got.target.z - want.target.z));
    }
  });
  errs.sort((a, b) => a - b);
  return {
    cases: rows.length,
    exact_pct: pct(exact, rows.length),
    action_agreement_pct: pct(action, rows.length),
    track_agreement_pct: pct(track, rows.length),
    reason_true_pct: pct(reasonTrue, rows.length),
    reason_agreement_pct: pct(reasonRight, rows.length),
    reason_fits_plan_pct: pct(reasonFit, rows.length),
    target_error_m_mean: Math.round(mean(errs) * 100) / 100,
    target_error_m_median: errs.length ? Math.round(errs[Math.floor(errs.length / 2)] * 100) / 100 : 0,
    invalid_outputs: invalid,
    mean_ms: Math.round(mean(gens.map((g) => g.ms)) * 10) / 10,
    median_ms: Math.round(median(gens.map((g) => g.ms)) * 10) / 10,
    tokens_per_s: Math.round(mean(gens.filter((g) => g.tokensPerSecond > 0).map((g) => g.tokensPerSecond))),
    mean_completion_tokens: Math.round(mean(gens.map((g) => g.completionTokens)) * 10) / 10,
  };
}

/** A corpus intent row as an IntentCase (expected rules parsed from the reference output). */
export const asCase = (r: CorpusRow, i: number): IntentCase => ({ id: `r${i}`, intent: r.user, classes: [], regions: [], expect: JSON.parse(r.output) as IntentCase['expect'] });

export async function loadEngine(path: string): Promise<LlmEngine> {
  return LlmEngine.load({ modelPath: path, threads: 1, contextSize: 1024, gpuLayers: 0, maxMemoryMb: 0, template: 'none' });
}

export async function runAll(e: LlmEngine, items: readonly { task: CorpusRow['task']; system: string; user: string }[], grounded = false): Promise<Gen[]> {
  const out: Gen[] = [];
  for (const it of items) out.push(await generate(e, it.task, it.system, it.user, grounded));
  return out;
}

/**
 * What the intent node installs (compiler `llm_checked`: grounded decoding, the grounding check, the
 * pattern compiler as fallback), as a Gen whose text is the installed rule set (`{"rules":[]}` = refused).
 */
export async function runNodePath(e: LlmEngine, items: readonly { system: string; user: string }[], repair = true, resample: number = RESAMPLE_DEFAULTS.samples): Promise<Gen[]> {
  const out: Gen[] = [];
  for (const it of items) {
    const v = vocabularyOf(it.system);
    // "no repair" is the first decode and its check alone: neither the repair decode nor the resampling.
    const llm: LlmCompiler = { engine: e, format: 'kestrel', grammar: await e.createGrammar(shapeFor('intent', it.system)), maxTokens: 400, repair, resample: repair ? resample : 0, resampleTemperature: RESAMPLE_DEFAULTS.temperature };
    const t0 = performance.now();
    const o = await compileIntent(intentTextOf(it.user), 'llm_checked', v, llm);
    out.push({
      text: o.ok ? formatRuleSet(o.rules) : REFUSAL, ok: true, ms: performance.now() - t0, tokensPerSecond: o.generation?.tokensPerSecond ?? 0, completionTokens: o.generation?.completionTokens ?? 0,
      path: o.ok ? o.path : 'refused', disagreement: o.ok && o.disagreement !== undefined,
    });
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (n: string, d: string): string => {
    const i = args.indexOf(n);
    return i >= 0 && args[i + 1] ? args[i + 1] : d;
  };
  const data = flag('--data', 'models/lm/data/v1');
  const nIntent = Number(flag('--n-intent', '200'));
  const nPlan = Number(flag('--n-plan', '100'));
  const quants = flag('--quants', 'F16,Q8_0,Q4_0').split(',') as Quant[];
  const files = flag('--files', '').split(',').filter(Boolean);
  const lite = args.includes('--lite');
  // --resample N: the node path's resampling count (default: the intent node's); 0 measures the repair decode alone.
  const resample = Number(flag('--resample', String(RESAMPLE_DEFAULTS.samples)));
  const dir = flag('--models', 'models/lm');
  // Named files go to their own results file so the quantization results the lead regenerates stay untouched.
  const outPath = flag('--out', files.length ? 'models/lm/eval/variants.json' : 'models/lm/eval/results.json');
  const targets = files.length
    ? files.map((f) => ({ key: f, path: join(dir, f) }))
    : quants.map((q) => ({ key: q, path: join(dir, `kestrel-lm-${q.toLowerCase()}.gguf`) }));
  const handPath = flag('--hand', 'models/lm/eval/intents.jsonl');
  const heldPath = join(data, 'heldout.jsonl');
  // A hand-written set alone (--n-intent 0 --n-plan 0) needs no generated corpus.
  const needHeld = nIntent > 0 || nPlan > 0;
  if (needHeld && !existsSync(heldPath)) throw new Error(`${heldPath} missing: generate the corpus first (npx tsx models/lm/corpus/gen.ts --seed 1 --version v1 --out ${data}; heldout is the same in every version)`);
  const held = needHeld ? readJsonl<CorpusRow>(heldPath) : [];
  const hi = stratified(held, 'intent', nIntent);
  const hp = stratified(held, 'plan', nPlan);
  const hand = parseIntentCases(readFileSync(handPath, 'utf8'));
  if (hand.errors.length) throw new Error(`${handPath}: ${hand.errors.join('; ')}`);
  if (hand.cases.length === 0) throw new Error(`${handPath}: no cases`);
  const handItems = hand.cases.map((c) => ({ task: 'intent' as const, ...intentPrompt({ classes: c.classes, regions: c.regions }, c.intent) }));

  // The pattern compiler alone (no model): the baseline the model's compiles are measured against.
  const patternsOnly = async (items: readonly { system: string; user: string }[]): Promise<Gen[]> => Promise.all(items.map(async (it) => {
    const o = await compileIntent(intentTextOf(it.user), 'patterns', vocabularyOf(it.system));
    return { text: o.ok ? formatRuleSet(o.rules) : REFUSAL, ok: true, ms: 0, tokensPerSecond: 0, completionTokens: 0, path: o.ok ? ('patterns' as const) : ('refused' as const) };
  }));
  const results: Record<string, unknown> = {
    patterns: {
      heldout_intent: intentMetrics(hi.map(asCase), await patternsOnly(hi), hi.map((r) => r.family)),
      handwritten_intent: intentMetrics(hand.cases, await patternsOnly(handItems)),
    },
  };
  for (const { key: q, path } of targets) {
    const e = await loadEngine(path);
    try {
      await generate(e, 'intent', handItems[0].system, handItems[0].user); // warm-up (first-call allocations)
      const t0 = performance.now();
      const gi = await runAll(e, hi);
      const gig = await runAll(e, hi, true);
      const gin = await runNodePath(e, hi, true, resample);
      const ginr = lite ? undefined : await runNodePath(e, hi, false);
      const gp = await runAll(e, hp);
      const gpg = await runAll(e, hp, true);
      const gh = await runAll(e, handItems);
      const ghg = await runAll(e, handItems, true);
      const ghn = await runNodePath(e, handItems, true, resample);
      const ghnr = lite ? undefined : await runNodePath(e, handItems, false);
      const failures = (gens: readonly Gen[]) => hand.cases.flatMap((c, i) => (JSON.stringify(rulesOf(gens[i].text)) === JSON.stringify(c.expect.rules) ? [] : [{ id: c.id, intent: c.intent, got: gens[i].text }])).slice(0, 200);
      const fam = hi.map((r) => r.family);
      results[q] = {
        file: path,
        // free: the vocabulary grammar only; grounded: grammar narrowed to the text; node: what llm_checked installs
        heldout_intent: intentMetrics(hi.map(asCase), gi, fam),
        heldout_intent_grounded: intentMetrics(hi.map(asCase), gig, fam),
        heldout_intent_node: intentMetrics(hi.map(asCase), gin, fam),
        ...(ginr ? { heldout_intent_node_no_repair: intentMetrics(hi.map(asCase), ginr, fam) } : {}),
        heldout_plan: planMetrics(hp, gp),
        heldout_plan_grounded: planMetrics(hp, gpg),
        handwritten_intent: { ...intentMetrics(hand.cases, gh), failures: failures(gh) },
        handwritten_intent_grounded: { ...intentMetrics(hand.cases, ghg), failures: failures(ghg) },
        handwritten_intent_node: { ...intentMetrics(hand.cases, ghn), failures: failures(ghn) },
        ...(ghnr ? { handwritten_intent_node_no_repair: intentMetrics(hand.cases, ghnr) } : {}),
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      };
      type M = { exact_pct: number; wrong_compiles: number };
      const r = results[q] as Record<string, M> & Record<'heldout_plan' | 'heldout_plan_grounded', { action_agreement_pct: number }>;
      const line = (k: string): string => (r[k] ? `${r[k].exact_pct}% (wrong ${r[k].wrong_compiles})` : '-');
      process.stdout.write(`${q}: heldout intent free/grounded/node ${line('heldout_intent')} / ${line('heldout_intent_grounded')} / ${line('heldout_intent_node')} (no repair ${line('heldout_intent_node_no_repair')}); hand-written ${handPath} ${line('handwritten_intent')} / ${line('handwritten_intent_grounded')} / ${line('handwritten_intent_node')} (no repair ${line('handwritten_intent_node_no_repair')}); plan action free/grounded ${r.heldout_plan.action_agreement_pct}% / ${r.heldout_plan_grounded.action_agreement_pct}%\n`);
    } finally {
      await e.dispose();
    }
  }
  if (files.length > 1) {
    // Same-run ratios against the first file (the unpruned reference): latency under load only compares within a run.
    type L = { mean_ms: number; median_ms: number };
    const ref = results[files[0]] as Record<string, L>;
    for (const f of files.slice(1)) {
      const r = results[f] as Record<string, L | Record<string, number>>;
      r.vs_first = Object.fromEntries(['heldout_intent', 'heldout_intent_grounded', 'heldout_intent_node', 'heldout_plan', 'heldout_plan_grounded', 'handwritten_intent_node']
        .flatMap((k) => [
          [`${k}_ms_ratio`, Math.round(((r[k] as L).mean_ms / ref[k].mean_ms) * 1000) / 1000],
          [`${k}_median_ms_ratio`, Math.round(((r[k] as L).median_ms / ref[k].median_ms) * 1000) / 1000],
        ]));
    }
  }
  // Sequential per-model passes see whatever load the machine had at the time; interleaving the models call by
  // call (rotating who goes first) gives every model the same load, so these ratios are the speed comparison.
  let interleaved: Record<string, unknown> | undefined;
  if (files.length > 1 && args.includes('--interleave')) {
    const engines = await Promise.all(targets.map((t) => loadEngine(t.path)));
    try {
      const ms = engines.map(() => ({ compile: [] as number[], plan: [] as number[] }));
      for (const e of engines) await generate(e, 'intent', handItems[0].system, handItems[0].user);
      const jobs = [...handItems.map((it) => ({ kind: 'compile' as const, it })), ...hp.map((it) => ({ kind: 'plan' as const, it }))];
      for (const [j, { kind, it }] of jobs.entries()) {
        for (let k = 0; k < engines.length; k++) {
          const m = (j + k) % engines.length;
          const [g] = kind === 'compile' ? await runNodePath(engines[m], [it]) : await runAll(engines[m], [{ ...it, task: 'plan' }], true);
          ms[m][kind].push(g.ms);
        }
      }
      const med = (xs: readonly number[]): number => Math.round(median(xs) * 10) / 10;
      interleaved = {
        note: 'median ms per call, models interleaved call by call; compile = hand-written node path (llm_checked), plan = held-out grounded',
        ...Object.fromEntries(targets.map((t, m) => [t.key, {
          compile_median_ms: med(ms[m].compile), plan_median_ms: med(ms[m].plan),
          compile_speedup_vs_first: Math.round((median(ms[0].compile) / median(ms[m].compile)) * 1000) / 1000,
          plan_speedup_vs_first: Math.round((median(ms[0].plan) / median(ms[m].plan)) * 1000) / 1000,
        }])),
      };
      process.stdout.write(`interleaved: ${JSON.stringify(interleaved)}\n`);
    } finally {
      for (const e of engines) await e.dispose();
    }
  }
  const manifest = existsSync('models/lm/export/manifest.json') ? (JSON.parse(readFileSync('models/lm/export/manifest.json', 'utf8')) as { metadata: unknown; training: unknown }) : undefined;
  const doc = {
    note: 'llama.cpp via node-llama-cpp, threads 1, greedy under the Kestrel GBNF; latency = mean wall time per compile/plan with the prefix KV cache reused as the nodes do',
    data,
    heldout_intent_cases: hi.length,
    heldout_plan_cases: hp.length,
    handwritten: handPath,
    handwritten_cases: hand.cases.length,
    model: manifest,
    results,
    ...(interleaved ? { interleaved } : {}),
  };
  writeFileSync(outPath, `${JSON.stringify(doc, null, 1)}\n`);
  process.stdout.write(`wrote ${outPath}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
