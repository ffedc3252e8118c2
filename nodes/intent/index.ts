/**
 * intent: compiles the operator's /intent text into a RuleSet on /rules (latched). By default
 * (`llm_checked`) the grammar-constrained model compiles, its rules validated and grounded in
 * the text, with the pattern compiler as cross-check (disagreements reported) and fallback;
 * see compile.ts for the modes. Every compile is validated against the classes and regions of
 * this deployment. A compile that fails keeps the previous rules installed and reports why
 * (log, diagnostics); a successful one is echoed as sentences in the log.
 */
import { makeMsg } from '../../msgs/index.js';
import { defineNode, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { latestOnly, runWithDeadline } from '../../runtime/operators.js';
import { LlmEngine, type LlmEngineApi } from '../../lib/llm/engine.js';
import { ProcessLlmEngine, warmPrefixOrLoss } from '../../lib/llm/process-engine.js';
import { checkGguf } from '../../lib/llm/gguf-check.js';
import { childOptions, childParams } from '../../lib/process/params.js';
import { bindChildDiagnostics } from '../../lib/process/diagnostics.js';
import { LLM_PARAMS, engineConfig, grammarKind, usesKestrelFormat } from '../../lib/llm/params.js';
import { toRule, type DslVocabulary } from '../../lib/rules/dsl.js';
import { ensureModel } from '../../models/gguf/cache.js';
import { ruleSkeletons } from '../../lib/rules/lm-prompt.js';
import { compileIntent, intentPrefix, intentShape, COMPILER_MODES, RESAMPLE_DEFAULTS, type CompilerMode, type CompileOutcome, type LlmCompiler } from './compile.js';

export const intentNode = defineNode({
  name: 'intent',
  description: "Compiles the operator's natural-language intent into validated rules (pattern compiler and/or grammar-constrained LLM)",
  params: {
    compiler: p.string('llm_checked', 'Which compiler: llm_checked (the model, validated and grounded in the text, patterns as cross-check and fallback), llm (the model alone), patterns (deterministic phrasings), patterns_then_llm', COMPILER_MODES),
    classes: p.stringArray(['person', 'bag', 'vehicle'], 'Object classes the detector knows (rules may only name these)'),
    regions: p.group('double[]', 'Named regions (polygons x0,y0,x1,y1,...); only the names matter here'),
    region_names: p.stringArray([], 'Extra region names, when the polygons are not given to this node'),
    deadline_ms: p.int(30000, 'Budget for one LLM compile (the compile is rare; seconds are fine)', { min: 100 }),
    max_tokens: p.int(400, 'Token limit for one LLM compile (a hit mid-JSON is a counted failure)', { min: 16 }),
    grounded_decoding: p.bool(true, 'Decode each intent under a grammar narrowed to the numbers, classes, regions, severities and reactions its text states (plus documented defaults)'),
    repair_decode: p.bool(true, 'With grounded decoding under llm_checked: a one-rule compile that dropped a stated value (time, distance, number, class, region, severity, reaction) is decoded once more with those fields narrowed to it; the repair faces the same grounding check (see README: more exact compiles, a few more wrong ones)'),
    resample: p.int(RESAMPLE_DEFAULTS.samples, 'Under llm_checked with grounded decoding: when the greedy compile and its repair fail grounding, this many seeded samples (seeds from the intent text, so replays repeat them) under the same grammar; the rule set most grounded samples agree on is installed (a several-rule set needs 2 votes). 0 = off (see README)', { min: 0, max: 32 }),
    resample_temperature: p.double(RESAMPLE_DEFAULTS.temperature, 'Sampling temperature of the resampling', { min: 0.05, max: 2 }),
    ...LLM_PARAMS,
    // The LLM below perception in priority (perception 5, control 0).
    ...childParams({ nice: 10, sched: 'idle', memoryMb: 4096 }),
  },
  subscribes: [topicDoc('/intent', "Operator's intent (latched)")],
  publishes: [topicDoc('/rules', 'The installed rules (latched); only republished on a successful compile')],
  async create(ctx, params) {
    const mode = params.compiler as CompilerMode;
    const vocab: DslVocabulary = { classes: params.classes, regions: [...new Set([...Object.keys(params.regions), ...params.region_names])].sort() };
    let llm: LlmCompiler | undefined;
    if (mode !== 'patterns') {
      const cfg = { ...engineConfig(params, (q) => ensureModel('tiny', q)), predictorMemory: ruleSkeletons(vocab) };
      // The GGUF header says whether this is a Kestrel LM (read here: the engine may run in a child process).
      const format = usesKestrelFormat(params, (await checkGguf(cfg.modelPath)).promptFormat) ? 'kestrel' : 'generic';
      const engine: LlmEngineApi = params.isolation === 'process' ? await ProcessLlmEngine.load(cfg, childOptions(params)) : await LlmEngine.load(cfg);
      if (engine instanceof ProcessLlmEngine) bindChildDiagnostics(engine.supervisor, ctx.diag, ctx.log);
      ctx.diag.values.isolation = params.isolation;
      llm = { engine, format, grammar: await engine.createGrammar(intentShape(vocab, format), grammarKind(params)), grounded: params.grounded_decoding, repair: params.repair_decode, resample: params.resample, resampleTemperature: params.resample_temperature, grammarKind: grammarKind(params), maxTokens: params.max_tokens, now: () => ctx.clock.now(), run: async (generate) => (await ctx.compute('compile_llm', generate)).value };
      ctx.diag.values.prompt_format = format === 'kestrel' ? 'kestrel-lm-1' : 'generic';
    }
    const pub = ctx.advertise('/rules');
    const stage = ctx.diag.stage('compile');
    let version = 0;
    let failures = 0;
    let truncated = 0;
    ctx.diag.values.compiler = mode;
    ctx.diag.values.vocabulary = `classes=${vocab.classes.join(',')} regions=${vocab.regions.join(',')}`;

    const report = (intent: string, out: CompileOutcome, latencyMs: number): void => {
      if (out.generation) {
        ctx.diag.values.prompt_tokens = String(out.generation.promptTokens);
        ctx.diag.values.completion_tokens = String(out.generation.completionTokens);
        ctx.diag.values.tokens_per_s = out.generation.tokensPerSecond.toFixed(1);
      }
      if (!out.ok) {
        failures++;
        if (out.truncated) truncated++;
        ctx.diag.values.failures = String(failures);
        ctx.diag.values.truncated = String(truncated);
        ctx.diag.values.last_error = out.errors.join(' | ');
        stage.error(new Error(out.errors.join(' | ')));
        ctx.diag.set('warn', `intent not compiled, keeping ${version === 0 ? 'no' : `v${version}`} rules: ${out.errors[0]}`);
        ctx.log.warn(`intent ${JSON.stringify(intent)} not compiled (previous rules kept): ${out.errors.join(' | ')}`);
        return;
      }
      version++;
      const rules = out.rules.map((f, i) => toRule(f, `r${version}_${i + 1}`));
      pub.publish(makeMsg('kestrel_msgs/msg/RuleSet', { header: ctx.header(), intent, version, rules }));
      stage.record(latencyMs);
      ctx.diag.values.compiled_by = out.path;
      ctx.diag.values.repaired = out.path === 'llm' && out.repaired ? 'yes (a second decode narrowed to what the first dropped)' : 'no';
      ctx.diag.values.resampled = out.path === 'llm' && out.resampled ? `yes (${out.resampled} agreed)` : 'no';
      ctx.diag.values.clauses = out.clauses ? `${out.clauses} (compiled clause by clause: the whole text was refused)` : 'whole text';
      ctx.diag.values.rules_version = String(version);
      ctx.diag.values.disagreement = out.disagreement ?? '';
      ctx.diag.values.llm_errors = out.llmErrors?.join(' | ') ?? '';
      ctx.diag.set(out.disagreement ? 'warn' : 'ok', `v${version}: ${rules.length} rules compiled by ${out.path}${out.disagreement ? ' (patterns disagree)' : ''}`);
      ctx.log.info(`intent compiled by ${out.path} (v${version}): ${out.notes.join('; ')}`);
      if (out.disagreement) ctx.log.warn(`intent ${JSON.stringify(intent)}: ${out.disagreement}`);
      if (out.llmErrors) ctx.log.warn(`intent ${JSON.stringify(intent)}: model compile not used (${out.llmErrors.join(' | ')}); the pattern compiler's rules are installed`);
    };

    return {
      async activate() {
        if (llm) {
          const w = await warmPrefixOrLoss(llm.engine, intentPrefix(vocab, llm.format));
          if ('lost' in w) ctx.log.warn(`prompt prefix not warmed (the first compile prefills it): ${w.lost}`);
        }
        return ctx.subscribe('/intent')
          .pipe(latestOnly(async (m) => {
            const intent = m.data.trim();
            const r = await runWithDeadline(ctx.clock, params.deadline_ms, (signal) => compileIntent(intent, mode, vocab, llm, signal));
            if (r.ok) report(intent, r.value, r.latencyMs);
            else {
              stage.miss();
              const why = r.reason === 'deadline' ? `compile exceeded deadline_ms ${params.deadline_ms}` : `compile failed: ${(r.error as Error).message}`;
              report(intent, { ok: false, errors: [why], truncated: false }, r.latencyMs);
            }
            // An aborted generation stops at its next token; the next compile waits for that.
            await llm?.engine.idle();
          }, { onDrop: () => stage.drop() }))
          .subscribe();
      },
      async shutdown() {
        await llm?.engine.dispose();
      },
    };
  },
});

export default intentNode;
