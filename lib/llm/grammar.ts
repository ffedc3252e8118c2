/**
 * One JSON shape, three uses: a GBNF grammar with bounded numbers and ASCII strings (what
 * llama.cpp samples under), the equivalent node-llama-cpp JSON schema (for
 * `createGrammarForJsonSchema`), and a validator for the parsed output. The GBNF form exists
 * because the JSON-schema grammar lets numbers grow to Infinity and lets byte tokens form
 * invalid UTF-8; with this one every complete output parses and validates.
 *
 * Number bounds must have the form [-(10^k - ε), 10^k - ε] or [0, 10^k - ε] so that a digit
 * count bounds the value exactly.
 */
import type { GbnfJsonSchema } from 'node-llama-cpp';

export type JsonShape =
  | { type: 'object'; properties: Readonly<Record<string, JsonShape>> }
  | { type: 'string'; enum: readonly string[] }
  | { type: 'string'; maxLength: number }
  | { type: 'number'; minimum: number; maximum: number; decimals?: number }
  /** One of these numbers, written as `formatNumber` writes them (grounded decoding: only values the text states). */
  | { type: 'number'; enum: readonly number[] }
  | { type: 'integer'; minimum: number; maximum: number }
  | { type: 'boolean' }
  | { type: 'array'; items: JsonShape; minItems?: number; maxItems: number }
  /** One of these whole values, written compactly (grounded plans: a target is a place the situation lists, x and y together). */
  | { type: 'literal'; values: readonly JsonValue[] };

/** What a JSON value of the shape is in TypeScript (loosely: objects as records). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

const q = (s: string): string => JSON.stringify(s);
/** A GBNF literal for a JSON string literal, e.g. "\"hold\"". */
const jsonLit = (s: string): string => q(JSON.stringify(s));

/** A value as the grammars write it: compact JSON, numbers as numberLiteral writes them. */
export function literalText(v: JsonValue): string {
  if (typeof v === 'number') return numberLiteral(v);
  if (Array.isArray(v)) return `[${v.map(literalText).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${literalText(x)}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A number as the grammars write it: at most one decimal, integers without `.0`, no `-0`. */
export function numberLiteral(x: number): string {
  const r = Math.round(x * 10) / 10;
  return String(r === 0 ? 0 : r);
}

function digitsFor(max: number): number {
  return Math.max(1, String(Math.floor(Math.abs(max))).length);
}

type RangeShape = Extract<JsonShape, { minimum: number }>;

/** Bounded digits: the digit count bounds the value (see the bound rule above). */
function rangeGbnf(s: RangeShape): string {
  const k = digitsFor(Math.max(Math.abs(s.minimum), Math.abs(s.maximum)));
  const int = k > 1 ? `("0" | [1-9] [0-9]{0,${k - 1}})` : '[0-9]';
  const sign = s.minimum < 0 ? '"-"? ' : '';
  const dec = s.type === 'number' && (s.decimals ?? 2) > 0 ? ` ("." [0-9]{1,${s.decimals ?? 2}})?` : '';
  return `${sign}${int}${dec}`;
}

/** GBNF grammar text for the shape (root rule `root`). Compact JSON, keys in declaration order. */
export function shapeToGbnf(shape: JsonShape): string {
  const rules: string[] = [];
  let n = 0;
  const emit = (s: JsonShape, hint: string): string => {
    const name = `${hint.replace(/[^a-z0-9]/gi, '-').toLowerCase() || 'v'}-${n++}`;
    let body: string;
    switch (s.type) {
      case 'object': {
        const parts = Object.entries(s.properties).map(([k, v], i) => `${q(`${i === 0 ? '' : ','}"${k}":`)} ${emit(v, k)}`);
        body = `"{" ${parts.join(' ')} "}"`;
        break;
      }
      case 'string':
        body = 'enum' in s
          ? `(${s.enum.map(jsonLit).join(' | ')})`
          : `"\\"" [ !#-\\[\\]-~]{0,${s.maxLength}} "\\""`;
        break;
      case 'number':
      case 'integer':
        body = 'enum' in s ? `(${[...new Set(s.enum.map(numberLiteral))].map(q).join(' | ')})` : rangeGbnf(s);
        break;
      case 'boolean':
        body = '("true" | "false")';
        break;
      case 'literal':
        if (s.values.length === 0) throw new Error('a literal shape needs at least one value');
        body = `(${[...new Set(s.values.map(literalText))].map(q).join(' | ')})`;
        break;
      case 'array': {
        const item = emit(s.items, `${hint}-item`);
        const min = s.minItems ?? 0;
        if (s.maxItems < 1) body = '"[]"';
        else if (min === 0) body = `"[" (${item} ("," ${item}){0,${s.maxItems - 1}})? "]"`;
        else body = `"[" ${item} ("," ${item}){${min - 1},${s.maxItems - 1}} "]"`;
        break;
      }
    }
    rules.push(`${name} ::= ${body}`);
    return name;
  };
  const root = emit(shape, 'root');
  return [`root ::= ${root}`, ...rules.reverse()].join('\n');
}

/** The same shape as node-llama-cpp's JSON schema type (for `llama.createGrammarForJsonSchema`). */
export function shapeToJsonSchema(shape: JsonShape): GbnfJsonSchema {
  switch (shape.type) {
    case 'object':
      return {
        type: 'object',
        properties: Object.fromEntries(Object.entries(shape.properties).map(([k, v]) => [k, shapeToJsonSchema(v)])),
        required: Object.keys(shape.properties),
        additionalProperties: false,
      } as GbnfJsonSchema;
    case 'string':
      return ('enum' in shape ? { enum: [...shape.enum] } : { type: 'string', maxLength: shape.maxLength }) as GbnfJsonSchema;
    case 'number':
      return 'enum' in shape ? ({ enum: [...shape.enum] } as GbnfJsonSchema) : { type: 'number' };
    case 'integer':
      return { type: 'integer' };
    case 'boolean':
      return { type: 'boolean' };
    case 'array':
      return { type: 'array', items: shapeToJsonSchema(shape.items), minItems: shape.minItems ?? 0, maxItems: shape.maxItems } as GbnfJsonSchema;
    case 'literal':
      // node-llama-cpp's schema grammar has no whole-object constants: callers decode these under GBNF.
      throw new Error("a 'literal' shape (grounded decoding) has no JSON-schema form: use grammar_kind gbnf");
  }
}

export class SchemaError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path || '$'}: ${detail}`);
    this.name = 'SchemaError';
  }
}

/** Checks a parsed value against the shape; throws SchemaError naming the first bad path. */
export function validateShape(value: unknown, shape: JsonShape, path = '$'): void {
  const fail = (d: string): never => { throw new SchemaError(path, d); };
  switch (shape.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`expected an object, got ${JSON.stringify(value)}`);
      const obj = value as Record<string, unknown>;
      for (const k of Object.keys(obj)) if (!(k in shape.properties)) fail(`unexpected key '${k}'`);
      for (const [k, s] of Object.entries(shape.properties)) {
        if (!(k in obj)) fail(`missing key '${k}'`);
        validateShape(obj[k], s, `${path}.${k}`);
      }
      return;
    }
    case 'string':
      if (typeof value !== 'string') fail(`expected a string, got ${JSON.stringify(value)}`);
      if ('enum' in shape) {
        if (!shape.enum.includes(value as string)) fail(`${JSON.stringify(value)} is not one of ${shape.enum.map((e) => JSON.stringify(e)).join(', ')}`);
      } else if ((value as string).length > shape.maxLength) fail(`string longer than ${shape.maxLength}`);
      return;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`expected a finite number, got ${JSON.stringify(value)}`);
      if (shape.type === 'integer' && !Number.isInteger(value)) fail(`expected an integer, got ${value as number}`);
      if ('enum' in shape) {
        if (!shape.enum.some((x) => numberLiteral(x) === numberLiteral(value as number))) fail(`${value as number} is not one of ${shape.enum.join(', ')}`);
        return;
      }
      if ((value as number) < shape.minimum || (value as number) > shape.maximum) fail(`${value as number} outside [${shape.minimum}, ${shape.maximum}]`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'literal': {
      const text = literalText(value as JsonValue);
      if (!shape.values.some((x) => literalText(x) === text)) fail(`${text} is not one of ${shape.values.map(literalText).join(', ')}`);
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) fail(`expected an array, got ${JSON.stringify(value)}`);
      const arr = value as unknown[];
      if (arr.length < (shape.minItems ?? 0) || arr.length > shape.maxItems) fail(`expected ${shape.minItems ?? 0}..${shape.maxItems} items, got ${arr.length}`);
      arr.forEach((v, i) => validateShape(v, shape.items, `${path}[${i}]`));
      return;
    }
  }
}

export class OutputParseError extends Error {
  constructor(readonly text: string, readonly reason: 'truncated' | 'invalid_json' | 'schema', detail: string) {
    super(`model output ${reason === 'truncated' ? 'hit the token limit mid-JSON' : reason === 'invalid_json' ? 'is not valid JSON' : 'does not match the schema'}: ${detail}`);
    this.name = 'OutputParseError';
  }
}

/** Parses model output and validates it; `truncated` marks a generation stopped by the token limit. */
export function parseOutput<T>(text: string, shape: JsonShape, truncated = false): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new OutputParseError(text, truncated ? 'truncated' : 'invalid_json', `${(e as Error).message} in ${JSON.stringify(text.slice(0, 120))}`);
  }
  try {
    validateShape(value, shape);
  } catch (e) {
    throw new OutputParseError(text, 'schema', (e as Error).message);
  }
  return value as T;
}
