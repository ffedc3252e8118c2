/**
 * planner: at `rate_hz`, turns the latest /world, /alerts and scene text into a compact
 * situation and asks the LLM for a Plan under a grammar derived from the Plan msg. The system
 * prompt + mission is a fixed prefix whose KV cache is evaluated once and reused. Each
 * generation is aborted at `deadline_ms`; a miss is counted and no plan is published (the
 * previous one expires at its valid_until). A cycle that finds the previous generation still
 * running is skipped and counted. The plan is advisory: the arbiter enforces the envelope.
 */
import type { Subscription } from 'rxjs';
import type { kestrel_msgs } from '../../msgs/index.js';
import { defineNode, paramTopicDoc, topicDoc } from '../../runtime/node.js';
import { QOS_DEFAULT } from '../../runtime/qos.js';
import { p } from '../../runtime/params.js';
import { every } from '../../runtime/clock.js';
import { runWithDeadline } from '../../runtime/operators.js';
import { LlmEngine, type LlmEngineApi } from '../../lib/llm/engine.js';
import { ProcessLlmEngine, warmPrefixOrLoss } from '../../lib/llm/process-engine.js';
import { checkGguf } from '../../lib/llm/gguf-check.js';
import { childOptions, childParams } from '../../lib/process/params.js';
import { bindChildDiagnostics } from '../../lib/process/diagnostics.js';
import { LLM_PARAMS, engineConfig, grammarKind, usesKestrelFormat } from '../../lib/llm/params.js';
import { parseOutput, OutputParseError } from '../../lib/llm/grammar.js';
import { ensureModel } from '../../models/gguf/cache.js';
import { ACTIONS, buildSituation, kestrelPlannerSystem, kestrelPlannerUser, plannerSystemPrompt, situationPlaces } from './situation.js';
import { planShape, planSkeletons, toPlanMsg, type PlanFields } from './plan.js';
import { reasonFits, reasonTexts, situationReasons, type Reason } from './reasons.js';

export const plannerNode = defineNode({
  name: 'planner',
  description: 'LLM planner: situation → schema-constrained Plan at a low rate, aborted at its deadline, with prefix KV reuse',
  params: {
    rate_hz: p.double(1, 'Planning rate', { min: 0.01, max: 100 }),
    deadline_ms: p.int(800, 'Budget per plan; generation is aborted at this point', { min: 10 }),
    validity_s: p.double(3, 'A plan is valid until its source stamp + validity_s', { min: 0.1 }),
    max_tokens: p.int(160, 'Token limit per plan (a hit mid-JSON is a counted failure)', { min: 8 }),
    mission: p.string('Patrol the area, monitor the passport queue and report alerts. Keep safe distance from people.', 'Mission text (part of the fixed prompt prefix)'),
    allowed_actions: p.stringArray([...ACTIONS], 'Actions the plan may choose', ACTIONS),
    max_tracks: p.int(8, 'Tracks listed in the situation (nearest first)', { min: 0, max: 100 }),
    grounded_decoding: p.bool(true, 'Decode each plan under a grammar whose target is one of the places the situation lists (the vehicle, or a listed track), whose track_id is 0 or a listed track, and whose reason is one of the sentences true of the situation (reasons.ts: its battery, alerts and their tracks; grammar_kind gbnf only)'),
    prefix_reuse: p.bool(true, 'Keep the KV cache of the fixed prefix between plans (false: evaluate the whole prompt each time)'),
    scene_text_topic: p.string('/scene/text', 'Untrusted text read by the camera (std_msgs/String), quoted into the situation'),
    ...LLM_PARAMS,
    // The LLM below perception in priority (perception 5, control 0).
    ...childParams({ nice: 10, sched: 'idle', memoryMb: 4096 }),
  },
  subscribes: [
    topicDoc('/world', 'Latest world state (latest only)'),
    topicDoc('/alerts', 'Active alerts'),
    paramTopicDoc('scene_text_topic', '/scene/text', 'std_msgs/msg/String', QOS_DEFAULT, 'Scene text (untrusted), topic set by scene_text_topic'),
  ],
  publishes: [topicDoc('/plan', 'Advisory plan with validity horizon and token/latency figures')],
  async create(ctx, params) {
    const actions = params.allowed_actions.length > 0 ? params.allowed_actions : [...ACTIONS];
    const shape = planShape(actions);
    const cfg = { ...engineConfig(params, (q) => ensureModel('tiny', q)), predictorMemory: planSkeletons(actions) };
    // The Kestrel LM was trained on the compact LM-SPEC prefix; chat models get the long one.
    const kestrel = usesKestrelFormat(params, (await checkGguf(cfg.modelPath)).promptFormat);
    const engine: LlmEngineApi = params.isolation === 'process' ? await ProcessLlmEngine.load(cfg, childOptions(params)) : await LlmEngine.load(cfg);
    if (engine instanceof ProcessLlmEngine) bindChildDiagnostics(engine.supervisor, ctx.diag, ctx.log);
    ctx.diag.values.isolation = params.isolation;
    const grammar = await engine.createGrammar(shape, grammarKind(params));
    // Grounded grammars have no JSON-schema form (a whole target is one literal): GBNF only.
    const grounded = params.grounded_decoding && grammarKind(params) === 'gbnf';
    const system = kestrel ? kestrelPlannerSystem(params.mission, actions) : plannerSystemPrompt(params.mission, actions);
    const pub = ctx.advertise('/plan');
    const stage = ctx.diag.stage('plan');
    const counters = { plans: 0, missed: 0, skipped_busy: 0, skipped_no_world: 0, failed: 0, truncated: 0, ungrounded: 0, reason_mismatch: 0 };
    let world: kestrel_msgs.WorldState | undefined;
    let alerts: kestrel_msgs.Alert[] = [];
    let sceneText = '';
    let running = false;
    let active = false;
    const subs: Subscription[] = [];
    const v = ctx.diag.values;
    const count = (k: keyof typeof counters): void => {
      counters[k]++;
      v[k] = String(counters[k]);
    };
    for (const [k, n] of Object.entries(counters)) v[k] = String(n);
    v.prompt_format = kestrel ? 'kestrel-lm-1' : 'generic';
    v.grounded_decoding = grounded ? 'on' : params.grounded_decoding ? 'off (grammar_kind json_schema)' : 'off';

    const cycle = async (): Promise<void> => {
      if (running) {
        count('skipped_busy');
        stage.drop();
        return;
      }
      const w = world;
      if (!w) {
        count('skipped_no_world');
        return;
      }
      running = true;
      try {
        const so = { maxTracks: params.max_tracks, sceneText };
        const user = kestrel ? kestrelPlannerUser(w, alerts, so) : buildSituation(w, alerts, so);
        // Time to first token and tokens/s measure the compute itself: on the node clock live;
        // under sim time the clock stands still while the model runs, so the engine's own timer.
        const timing = ctx.clock.kind === 'sim' ? undefined : () => ctx.clock.now();
        // ctx.compute: under sim time (replays, eval) the generation's cost is charged to the
        // clock, so the deadline sees it as a device would; live it only measures.
        // The plan's own grammar (its places), made and released inside the deadline; a situation without a
        // readable vehicle position (NaN) decodes under the free grammar, counted.
        let planGrammar = grammar;
        let planShapeNow = shape;
        let reasons: Reason[] | undefined;
        if (grounded) {
          try {
            const places = situationPlaces(user);
            reasons = situationReasons(user, actions, places);
            planShapeNow = planShape(actions, places, reasonTexts(reasons));
          } catch {
            count('ungrounded');
          }
        }
        // Inside ctx.compute: a replay does not advance virtual time while the child builds the grammar.
        const r = await runWithDeadline(ctx.clock, params.deadline_ms, async (signal) =>
          (await ctx.compute('generate', async () => {
            if (planShapeNow !== shape) planGrammar = await engine.createGrammar(planShapeNow, 'gbnf');
            try {
              return await engine.generate({ system, user }, { grammar: planGrammar, maxTokens: params.max_tokens, signal, reusePrefix: params.prefix_reuse, now: timing });
            } finally {
              if (planGrammar !== grammar) await engine.releaseGrammar(planGrammar);
            }
          }, (g) => g.completionTokens)).value);
        if (!r.ok) {
          if (r.reason === 'deadline') {
            count('missed');
            stage.miss();
            ctx.diag.set('warn', `plan missed deadline_ms ${params.deadline_ms}; previous plan expires at its valid_until`);
          } else {
            count('failed');
            stage.error(r.error);
            ctx.diag.set('warn', `plan generation failed: ${(r.error as Error).message}`);
          }
          return;
        }
        const g = r.value;
        v.prompt_tokens = String(g.promptTokens);
        v.reused_tokens = String(g.reusedTokens);
        v.completion_tokens = String(g.completionTokens);
        v.ttft_ms = g.ttftMs.toFixed(1);
        v.generation_ms = g.totalMs.toFixed(1);
        v.tokens_per_s = g.tokensPerSecond.toFixed(1);
        if (g.predictions) v.predictions = `validated ${g.predictions.validated}, refuted ${g.predictions.refuted}`;
        let fields: PlanFields;
        try {
          fields = parseOutput<PlanFields>(g.text, planShapeNow, g.stopReason === 'max_tokens');
        } catch (e) {
          count('failed');
          if (e instanceof OutputParseError && e.reason === 'truncated') count('truncated');
          stage.error(e);
          ctx.diag.set('warn', (e as Error).message);
          return;
        }
        if (!active) return;
        // A true reason for another plan (hold while saying "orbit #9"): the plan is still the model's, the
        // mismatch is counted and said, so an operator reading it is not misled silently.
        if (reasons && !reasonFits(reasons, fields)) {
          count('reason_mismatch');
          ctx.diag.set('warn', `plan ${fields.action} gives the reason of another plan: "${fields.reason}"`);
        }
        pub.publish(toPlanMsg(fields, w.header.stamp, params.validity_s, g, w.header.frame_id || 'map'));
        count('plans');
        stage.record(r.latencyMs);
        ctx.diag.set('ok', `plan ${fields.action} (${g.completionTokens} tokens, ttft ${g.ttftMs.toFixed(0)} ms)`);
      } finally {
        // An aborted generation stops at its next token; until then the next cycles are skipped.
        await engine.idle();
        running = false;
      }
    };

    return {
      async activate() {
        if (params.prefix_reuse) {
          const w = await warmPrefixOrLoss(engine, system);
          if ('lost' in w) ctx.log.warn(`prompt prefix not warmed (the first plan prefills it): ${w.lost}`);
          else v.prefix_tokens = String(w.tokens);
        }
        active = true;
        subs.push(
          ctx.subscribe('/world').subscribe((w) => { world = w; }),
          ctx.subscribe('/alerts').subscribe((a) => { alerts = a.alerts; }),
          ctx.subscribe(params.scene_text_topic, 'std_msgs/msg/String').subscribe((s) => { sceneText = s.data; }),
          every(ctx.clock, 1000 / params.rate_hz).subscribe(() => {
            void cycle().catch((e: unknown) => stage.error(e));
          }),
        );
        return subs.splice(0);
      },
      async deactivate() {
        active = false;
        await engine.idle();
      },
      async shutdown() {
        active = false;
        await engine.dispose();
      },
    };
  },
});

export default plannerNode;
