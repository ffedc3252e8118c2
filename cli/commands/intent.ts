/**
 * `kestrel intent "<text>"`: compiles an operator intent exactly as the intent node does
 * (nodes/intent/compile.ts, same modes, same validation and grounding) and prints the rules
 * as JSON and as sentences, or the refusal with its reason (exit 1). For checking an intent
 * before deploying it.
 */
import { parseArgs } from 'node:util';
import { LlmEngine } from '../../lib/llm/engine.js';
import { DEFAULT_MODEL_PATH, KESTREL_PROMPT_FORMAT, engineConfig, usesKestrelFormat } from '../../lib/llm/params.js';
import type { DslVocabulary } from '../../lib/rules/dsl.js';
import { ensureModel } from '../../models/gguf/cache.js';
import { compileIntent, intentShape, intentTextError, COMPILER_MODES, type CompilerMode, type LlmCompiler } from '../../nodes/intent/compile.js';
import { RULE_FIELDS } from '../../lib/rules/lm-prompt.js';
import type { RuleFields } from '../../lib/rules/dsl.js';
import { io, println, UsageError, type Command } from '../command.js';

const USAGE = `usage: kestrel intent "<text>" --classes a,b,c [--regions x,y] [options]

Compiles the intent on the intent node's path and prints the rules (Rule msg fields) as JSON and
as sentences to confirm, or the refusal and its reasons. Exit 0 compiled, 1 refused, 2 bad usage.

  --classes LIST     the detector's classes, comma-separated (required), e.g. person,bag,vehicle
  --regions LIST     named regions, comma-separated (default: none)
  --compiler MODE    ${COMPILER_MODES.join(' | ')} (default llm_checked: the model, validated and
                     grounded in the text, the pattern compiler as cross-check and fallback)
  --model FILE       GGUF model (default: the intent node's model_path, ${DEFAULT_MODEL_PATH}: Kestrel's own model; '' = the generated tiny random model)
  --prompt-format F  auto | ${KESTREL_PROMPT_FORMAT} | generic (default auto: what the GGUF declares)
  --max-tokens N     token limit of one compile (default 400)
  --threads N        llama.cpp threads (default 1)
  --json             print {"ok":true,"rules":[...]} or {"ok":false,"errors":[...]} only`;

const parse = (args: string[]) => parseArgs({
  args,
  allowPositionals: true,
  options: {
    classes: { type: 'string' }, regions: { type: 'string' }, compiler: { type: 'string', default: 'llm_checked' },
    model: { type: 'string' }, 'prompt-format': { type: 'string', default: 'auto' }, 'max-tokens': { type: 'string', default: '400' },
    threads: { type: 'string', default: '1' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  },
});

const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

export const intentCommand: Command = {
  name: 'intent',
  summary: 'compile an operator intent into rules (as the intent node does) and print them, or the refusal',
  usage: USAGE,
  async run(argv) {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      println(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one intent text (quoted), got ${positionals.length} arguments`);
    const classes = list(values.classes);
    if (classes.length === 0) throw new UsageError('--classes is required (e.g. --classes person,bag,vehicle)');
    const mode = values.compiler as CompilerMode;
    if (!COMPILER_MODES.includes(mode)) throw new UsageError(`--compiler '${values.compiler}' is not one of ${COMPILER_MODES.join(', ')}`);
    const pf = values['prompt-format'] as string;
    if (!['auto', KESTREL_PROMPT_FORMAT, 'generic'].includes(pf)) throw new UsageError(`--prompt-format '${pf}' is not one of auto, ${KESTREL_PROMPT_FORMAT}, generic`);
    const maxTokens = Number(values['max-tokens']);
    const threads = Number(values.threads);
    if (!Number.isInteger(maxTokens) || maxTokens < 16) throw new UsageError('--max-tokens must be an integer >= 16');
    if (!Number.isInteger(threads) || threads < 0) throw new UsageError('--threads must be an integer >= 0');
    const vocab: DslVocabulary = { classes, regions: list(values.regions) };
    const text = positionals[0];

    const refuse = (errors: string[]): number => {
      if (values.json) println(JSON.stringify({ ok: false, errors }));
      else io.err(`refused: ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text)}\n${errors.map((e) => `  - ${e}\n`).join('')}`);
      return 1;
    };
    // Bad text is refused before a model is even loaded.
    const bad = intentTextError(text);
    if (bad) return refuse([bad]);
    let llm: LlmCompiler | undefined;
    if (mode !== 'patterns') {
      const cfg = engineConfig({
        model_path: values.model ?? DEFAULT_MODEL_PATH, quantization: 'Q4_0', threads, context_size: 2048, gpu_layers: 0, max_memory_mb: 0,
        use_mmap: false, template: 'auto', grammar: 'gbnf', predictor: 'none', draft_model_path: '', forced_tokens: false, model_variant: 'full', prompt_format: pf,
      }, (q) => ensureModel('tiny', q));
      const engine = await LlmEngine.load(cfg);
      const format = usesKestrelFormat({ prompt_format: pf }, engine.summary.promptFormat) ? 'kestrel' : 'generic';
      llm = { engine, format, grammar: await engine.createGrammar(intentShape(vocab, format)), maxTokens };
    }
    try {
      const out = await compileIntent(text, mode, vocab, llm);
      if (!out.ok) return refuse(out.errors);
      // Rule msg field order, whichever compiler wrote them.
      const rules = out.rules.map((r) => Object.fromEntries(RULE_FIELDS.map((k) => [k, r[k]])) as unknown as RuleFields);
      if (values.json) {
        println(JSON.stringify({ ok: true, rules }));
        return 0;
      }
      println(JSON.stringify({ rules }, null, 2));
      println(`compiled by ${out.path}${llm ? ` (${llm.format === 'kestrel' ? KESTREL_PROMPT_FORMAT : 'generic'} prompt)` : ''}:`);
      for (const n of out.notes) println(`  - ${n}`);
      if (out.llmErrors) println(`the model's compile was not used: ${out.llmErrors.join(' | ')}`);
      if (out.disagreement) println(`note: ${out.disagreement}`);
      return 0;
    } finally {
      await llm?.engine.dispose();
    }
  },
};
