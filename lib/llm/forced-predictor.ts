/**
 * Forced-token jump-ahead (`forced_tokens: true`, issue 18). Where the grammar admits exactly one
 * continuation — JSON keys and punctuation of the compact JsonShape output, an enum tail once one
 * candidate is left, the `"` closing a full-length string — the text is known before the model
 * runs. node-llama-cpp has no call that appends grammar-forced tokens without evaluating them
 * (LlamaContextSequence.evaluate samples every token; controlledEvaluate evaluates a given batch but
 * bypasses the grammar state and the completion loop), but its TokenPredictor hook takes any
 * predicted tokens, checks them against the grammar and evaluates them in ONE batch with the next
 * real step, keeping each only while it equals the greedy choice. So the forced text, tokenized, is
 * an honest prediction: outputs stay byte-identical (the target validates every token), and where
 * the model tokenizes the forced text as the tokenizer does (the JSON-structure pieces are
 * user-defined SentencePiece pieces, tokenizer.py --json-symbols) the jump costs no sequential step.
 * The first forced run (`{"rules":[{"kind":"`) is even evaluated in the prompt's batch.
 *
 * ShapeAutomaton is a character NFA of exactly what grammar.ts's shapeToGbnf admits; the predictor
 * follows the output text through it and predicts the forced text, else defers to an inner
 * predictor (prompt lookup, skeleton lookup or a draft model) when one is given.
 */
import { TokenPredictor, type Token } from 'node-llama-cpp';
import { literalText, numberLiteral, type JsonShape } from './grammar.js';

interface NfaNode {
  /** Character edges: allowed characters (a string of them) → node. */
  edges: { chars: string; to: number }[];
  eps: number[];
}

interface Frag { start: number; end: number }

const DIGITS = '0123456789';
const NONZERO = '123456789';
/** shapeToGbnf's free string character class: printable ASCII except `"` and `\`. */
const STRING_CHARS = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== '"' && c !== '\\').join('');

function digitsFor(max: number): number {
  return Math.max(1, String(Math.floor(Math.abs(max))).length);
}

/** A set of NFA nodes (closed under ε), as a sorted array: cheap to compare and to step. */
export type NfaState = readonly number[];

export class ShapeAutomaton {
  private readonly nodes: NfaNode[] = [];
  private readonly root: Frag;

  constructor(shape: JsonShape) {
    this.root = this.build(shape);
  }

  get size(): number {
    return this.nodes.length;
  }

  private node(): number {
    this.nodes.push({ edges: [], eps: [] });
    return this.nodes.length - 1;
  }

  private lit(s: string): Frag {
    const start = this.node();
    let cur = start;
    for (const ch of s) {
      const nx = this.node();
      this.nodes[cur].edges.push({ chars: ch, to: nx });
      cur = nx;
    }
    return { start, end: cur };
  }

  private cls(chars: string): Frag {
    const start = this.node();
    const end = this.node();
    this.nodes[start].edges.push({ chars, to: end });
    return { start, end };
  }

  private seq(fs: readonly Frag[]): Frag {
    for (let i = 1; i < fs.length; i++) this.nodes[fs[i - 1].end].eps.push(fs[i].start);
    return { start: fs[0].start, end: fs[fs.length - 1].end };
  }

  private alt(fs: readonly Frag[]): Frag {
    const start = this.node();
    const end = this.node();
    for (const f of fs) {
      this.nodes[start].eps.push(f.start);
      this.nodes[f.end].eps.push(end);
    }
    return { start, end };
  }

  private opt(f: Frag): Frag {
    this.nodes[f.start].eps.push(f.end);
    return f;
  }

  /** `make(){min,max}` (fresh copies: an NFA fragment cannot be reused). */
  private rep(make: () => Frag, min: number, max: number): Frag {
    const parts: Frag[] = [this.lit('')];
    // each optional copy may be skipped on its own: the same language as GBNF's {min,max}
    for (let i = 0; i < max; i++) parts.push(i < min ? make() : this.opt(make()));
    return this.seq(parts);
  }

  private build(s: JsonShape): Frag {
    switch (s.type) {
      case 'object': {
        const parts: Frag[] = [this.lit('{')];
        Object.entries(s.properties).forEach(([k, v], i) => parts.push(this.lit(`${i === 0 ? '' : ','}"${k}":`), this.build(v)));
        parts.push(this.lit('}'));
        return this.seq(parts);
      }
      case 'string':
        if ('enum' in s) return this.alt(s.enum.map((e) => this.lit(JSON.stringify(e))));
        return this.seq([this.lit('"'), this.rep(() => this.cls(STRING_CHARS), 0, s.maxLength), this.lit('"')]);
      case 'number':
      case 'integer': {
        if ('enum' in s) return this.alt([...new Set(s.enum.map(numberLiteral))].map((e) => this.lit(e)));
        const k = digitsFor(Math.max(Math.abs(s.minimum), Math.abs(s.maximum)));
        const int = k > 1 ? this.alt([this.lit('0'), this.seq([this.cls(NONZERO), this.rep(() => this.cls(DIGITS), 0, k - 1)])]) : this.cls(DIGITS);
        const parts: Frag[] = [];
        if (s.minimum < 0) parts.push(this.opt(this.lit('-')));
        parts.push(int);
        const dec = s.type === 'number' ? (s.decimals ?? 2) : 0;
        if (dec > 0) parts.push(this.opt(this.seq([this.lit('.'), this.rep(() => this.cls(DIGITS), 1, dec)])));
        return this.seq(parts);
      }
      case 'boolean':
        return this.alt([this.lit('true'), this.lit('false')]);
      case 'literal':
        return this.alt([...new Set(s.values.map(literalText))].map((e) => this.lit(e)));
      case 'array': {
        const min = s.minItems ?? 0;
        if (s.maxItems < 1) return this.lit('[]');
        const items = (): Frag => this.seq([this.build(s.items), this.rep(() => this.seq([this.lit(','), this.build(s.items)]), Math.max(0, min - 1), s.maxItems - 1)]);
        return this.seq([this.lit('['), min === 0 ? this.opt(items()) : items(), this.lit(']')]);
      }
    }
  }

  private closure(seed: Iterable<number>): NfaState {
    const seen = new Set<number>();
    const stack = [...seed];
    while (stack.length) {
      const n = stack.pop() as number;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const e of this.nodes[n].eps) stack.push(e);
    }
    return [...seen].sort((a, b) => a - b);
  }

  start(): NfaState {
    return this.closure([this.root.start]);
  }

  /** The state after `ch`; empty when the grammar does not admit it. */
  step(st: NfaState, ch: string): NfaState {
    const next: number[] = [];
    for (const n of st) for (const e of this.nodes[n].edges) if (e.chars.includes(ch)) next.push(e.to);
    return next.length ? this.closure(next) : [];
  }

  /** Steps through `text`; empty as soon as a character is not admitted. */
  run(st: NfaState, text: string): NfaState {
    let cur = st;
    for (const ch of text) {
      cur = this.step(cur, ch);
      if (!cur.length) break;
    }
    return cur;
  }

  accepting(st: NfaState): boolean {
    return st.includes(this.root.end);
  }

  /** The text every admitted continuation starts with (up to `max` characters); '' when the next character is free. */
  forced(st: NfaState, max = 64): string {
    let out = '';
    let cur = st;
    while (out.length < max && cur.length && !this.accepting(cur)) {
      let only: string | undefined;
      for (const n of cur) {
        for (const e of this.nodes[n].edges) {
          if (e.chars.length !== 1 || (only !== undefined && only !== e.chars)) return out;
          only = e.chars;
        }
      }
      if (only === undefined) return out;
      out += only;
      cur = this.step(cur, only);
    }
    return out;
  }
}

/** Automata per shape object: the nodes pass the same shape objects call after call. */
const automata = new WeakMap<JsonShape, ShapeAutomaton>();
export function automatonFor(shape: JsonShape): ShapeAutomaton {
  let a = automata.get(shape);
  if (!a) {
    a = new ShapeAutomaton(shape);
    automata.set(shape, a);
  }
  return a;
}

export interface ForcedTokenIo {
  /** Text → tokens, no BOS (the model's tokenizer). */
  tokenize(text: string): Token[];
  /** Tokens → text. */
  detokenize(tokens: readonly Token[]): string;
}

export class ForcedTokenPredictor extends TokenPredictor {
  private prompt: Token[] = [];
  private out: Token[] = [];
  private automaton: ShapeAutomaton | undefined;
  private text = '';
  private state: NfaState = [];
  /** Forced-text predictions made and inner-predictor fallbacks (for the bench). */
  readonly counts = { forced: 0, inner: 0 };

  constructor(private readonly io: ForcedTokenIo, private readonly inner?: TokenPredictor, private readonly maxPredict = 32) {
    super();
  }

  /** Called by the engine before each generation: the prompt (BOS included) and the output's shape (none = no forcing). */
  begin(prompt: readonly Token[], shape: JsonShape | undefined): void {
    this.prompt = prompt.slice();
    this.automaton = shape ? automatonFor(shape) : undefined;
    this.setOutput([]);
  }

  private setOutput(tokens: Token[]): void {
    this.out = tokens;
    this.text = tokens.length ? this.io.detokenize(tokens) : '';
    this.state = this.automaton ? this.automaton.run(this.automaton.start(), this.text) : [];
  }

  reset(params: Parameters<TokenPredictor['reset']>[0]): Promise<void> | void {
    const st = params.stateTokens;
    const isPrompt = st.length >= this.prompt.length && this.prompt.every((t, i) => st[i] === t);
    this.setOutput(isPrompt ? st.slice(this.prompt.length) : []);
    if (!isPrompt) this.automaton = undefined; // not our generation: predict nothing forced
    return this.inner?.reset(params);
  }

  override updateInputTokens(tokens: Token[]): void {
    this.inner?.updateInputTokens(tokens);
  }

  pushTokens(tokens: Token[]): void {
    this.inner?.pushTokens(tokens);
    if (!this.automaton) return;
    this.out.push(...tokens);
    const text = this.io.detokenize(this.out);
    // a token may complete a multi-byte character only with the next one: re-run from the start if the text is not an extension
    this.state = text.startsWith(this.text) ? this.automaton.run(this.state, text.slice(this.text.length)) : this.automaton.run(this.automaton.start(), text);
    this.text = text;
  }

  predictTokens(): Promise<Token[]> | Token[] {
    const forced = this.automaton && this.state.length ? this.automaton.forced(this.state) : '';
    if (forced) {
      this.counts.forced++;
      return this.io.tokenize(forced).slice(0, this.maxPredict);
    }
    if (!this.inner) return [];
    this.counts.inner++;
    return this.inner.predictTokens();
  }

  override stop(untilPredictionsExhausted?: boolean): Promise<void> | void {
    return this.inner?.stop(untilPredictionsExhausted);
  }

  override dispose(): Promise<void> | void {
    this.out = [];
    return this.inner?.dispose();
  }
}
