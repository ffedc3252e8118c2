/**
 * ROS 2 params files (`node: ros__parameters: {...}`), read with the rules of rcl_yaml_param_parser:
 * plain scalars are typed by rcl's `get_value` (bool words, strtol, strtod, else string), quoted
 * scalars are always strings, nested node keys form namespaces, nested parameter maps become
 * dotted names, and node keys may be wildcards (`/**`, `/*`) matched the way rclcpp does.
 */
import { FileTooLargeError, readTextBounded } from './read-bounded.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Scalar } from 'yaml';
import { type ParamOverride, type ParamType, type ParamValue } from './params.js';

export class ParamsFileError extends Error {
  constructor(readonly file: string, readonly line: number | undefined, readonly detail: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
    this.name = 'ParamsFileError';
  }
}

/** One node key of a params file (`/ns/node`, `/**`, ...) with its parameters, in file order. */
export interface ParamsEntry {
  /** Absolute node key as rcl stores it for matching: always starts with `/`. */
  nodeKey: string;
  params: Map<string, ParamOverride>;
}

export interface ParamsFile {
  path: string;
  entries: ParamsEntry[];
}

// ---------------------------------------------------------------------------------------------
// Scalar typing, as rcl's get_value does it.

const TRUE_WORDS = new Set(['Y', 'y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE_WORDS = new Set(['N', 'n', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
// strtol(value, &end, 0) consuming the whole string: hex, octal (leading 0) or decimal.
const INT_RE = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;
const FLOAT_RE = /^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)$/i;
const YAML_SPECIAL_FLOAT = /^[+-]?\.(nan|NaN|NAN|inf|Inf|INF)$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export type ScalarTyped = { type: 'bool'; value: boolean } | { type: 'int'; value: number; exact?: bigint } | { type: 'double'; value: number } | { type: 'string'; value: string };

/** Types a plain (unquoted) scalar text the way rcl does; quoted scalars are strings, so don't call this for them. */
export function typePlainScalar(text: string): ScalarTyped {
  if (TRUE_WORDS.has(text)) return { type: 'bool', value: true };
  if (FALSE_WORDS.has(text)) return { type: 'bool', value: false };
  const m = INT_RE.exec(text);
  if (m) {
    const digits = m[2]!;
    let big: bigint;
    if (/^0[xX]/.test(digits)) big = BigInt(digits);
    else if (digits.length > 1 && digits.startsWith('0')) big = BigInt(`0o${digits.slice(1)}`);
    else big = BigInt(digits);
    if (m[1] === '-') big = -big;
    // strtol overflows (ERANGE) past int64; rcl then tries strtod.
    if (big <= INT64_MAX && big >= INT64_MIN) {
      // Past ±2^53 a Number is only the nearest double: keep the exact int64 beside it.
      return Number.isSafeInteger(Number(big)) ? { type: 'int', value: Number(big) } : { type: 'int', value: Number(big), exact: big };
    }
  }
  if (YAML_SPECIAL_FLOAT.test(text)) {
    const neg = text.startsWith('-');
    const v = /nan/i.test(text) ? Number.NaN : neg ? -Infinity : Infinity;
    return { type: 'double', value: v };
  }
  if (FLOAT_RE.test(text)) {
    const t = text.trim().toLowerCase().replace(/^([+-]?)inf(inity)?$/, '$1Infinity').replace(/^[+-]?nan$/, 'NaN');
    return { type: 'double', value: Number(t) };
  }
  return { type: 'string', value: text };
}

/** Where a value is written: used for messages. */
export interface ValueOrigin {
  file: string;
  line: (offset: number) => number;
}

function scalarTyped(s: Scalar, src: string, o: ValueOrigin): ScalarTyped {
  const line = o.line(s.range?.[0] ?? 0);
  if (s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE' || s.type === 'BLOCK_LITERAL' || s.type === 'BLOCK_FOLDED') {
    return { type: 'string', value: String(s.value) };
  }
  const text = s.range ? src.slice(s.range[0], s.range[1]).trim() : String(s.value);
  if (text === '') throw new ParamsFileError(o.file, line, 'no value (expected a scalar or a list of scalars)');
  if (s.tag !== undefined && s.tag !== '!' ) throw new ParamsFileError(o.file, line, `YAML tags are not supported (got '${s.tag}')`);
  return typePlainScalar(text);
}

/**
 * A YAML value node (scalar or flat list of scalars) → a typed parameter value, or a clear error
 * naming file:line. Maps are not values: callers flatten them into dotted names first.
 */
export function yamlValueToParam(node: YamlNode | null, src: string, o: ValueOrigin, key: string): Omit<ParamOverride, 'source'> {
  if (node === null || node === undefined) throw new ParamsFileError(o.file, undefined, `parameter '${key}': no value`);
  const line = o.line(node.range?.[0] ?? 0);
  if (isAlias(node)) throw new ParamsFileError(o.file, line, `parameter '${key}': YAML aliases are not supported (rcl refuses them)`);
  if (isScalar(node)) {
    const t = scalarTyped(node, src, o);
    return t.type === 'int' && t.exact !== undefined ? { value: t.value, type: t.type, exact: t.exact } : { value: t.value, type: t.type };
  }
  if (isSeq(node)) {
    const items: ScalarTyped[] = [];
    for (const it of node.items) {
      const n = it as YamlNode;
      if (!isScalar(n)) {
        throw new ParamsFileError(o.file, o.line(n?.range?.[0] ?? node.range?.[0] ?? 0), `parameter '${key}': arrays must contain scalars only (no nested lists or maps)`);
      }
      items.push(scalarTyped(n, src, o));
    }
    if (items.length === 0) return { value: [], type: 'string[]' };
    const t0 = items[0]!.type;
    for (let i = 1; i < items.length; i++) {
      if (items[i]!.type !== t0) {
        const n = node.items[i] as YamlNode;
        throw new ParamsFileError(o.file, o.line(n.range?.[0] ?? 0),
          `parameter '${key}': array elements must all have one type; element ${i} is ${items[i]!.type} (${JSON.stringify(items[i]!.value)}), element 0 is ${t0}`);
      }
    }
    const value = items.map((x) => x.value) as ParamValue;
    const exact = items.some((x) => x.type === 'int' && x.exact !== undefined) ? items.map((x) => (x.type === 'int' ? (x.exact ?? BigInt(x.value)) : 0n)) : undefined;
    return { value, type: `${t0}[]` as ParamType, ...(exact ? { exact } : {}) };
  }
  throw new ParamsFileError(o.file, line, `parameter '${key}': expected a scalar or a list of scalars`);
}

// ---------------------------------------------------------------------------------------------
// Files.

function lineFn(lc: LineCounter): (offset: number) => number {
  return (offset) => lc.linePos(offset).line;
}

/** Nested node keys join like rcl's namespace tracker; a key that itself starts with `/` doesn't double the slash. */
function joinNodeKey(prefix: string, key: string): string {
  if (prefix === '') return key;
  return `${prefix.replace(/\/+$/, '')}/${key.replace(/^\/+/, '')}`;
}

function normalizeNodeKey(key: string): string {
  return key.startsWith('/') ? key : `/${key}`;
}

const NODE_KEY_RE = /^\/?(\*\*|\*|[A-Za-z_][\w]*)(\/(\*\*|\*|[A-Za-z_~][\w]*))*$/;

/** Parses params YAML text. `path` is used in messages and as the `source` of each value. */
export function parseParamsYaml(src: string, path: string): ParamsFile {
  const lc = new LineCounter();
  const doc = parseDocument(src, { schema: 'failsafe', lineCounter: lc, uniqueKeys: true });
  const o: ValueOrigin = { file: path, line: lineFn(lc) };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ParamsFileError(path, e.linePos?.[0].line, `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const entries: ParamsEntry[] = [];
  const byKey = new Map<string, ParamsEntry>();
  const root = doc.contents;
  if (root === null) return { path, entries };
  if (!isMap(root)) throw new ParamsFileError(path, o.line(root.range?.[0] ?? 0), 'expected a map of node names at the top level (`node_name: {ros__parameters: ...}`)');

  const walkNode = (map: YamlNode, prefix: string): void => {
    if (!isMap(map)) throw new ParamsFileError(path, o.line(map.range?.[0] ?? 0), `node '${prefix}': expected a map with 'ros__parameters'`);
    for (const pair of map.items) {
      const k = pair.key as YamlNode;
      const keyText = isScalar(k) ? String(k.value) : '';
      const line = o.line(k?.range?.[0] ?? 0);
      if (keyText === '') throw new ParamsFileError(path, line, 'empty or non-scalar key');
      if (keyText === 'ros__parameters') {
        if (prefix === '') throw new ParamsFileError(path, line, "'ros__parameters' needs a node name above it (e.g. `/**:` or `my_node:`)");
        const nodeKey = normalizeNodeKey(prefix);
        if (!NODE_KEY_RE.test(nodeKey)) throw new ParamsFileError(path, line, `invalid node name or namespace '${prefix}'`);
        let entry = byKey.get(nodeKey);
        if (!entry) {
          entry = { nodeKey, params: new Map() };
          byKey.set(nodeKey, entry);
          entries.push(entry);
        }
        const v = pair.value as YamlNode | null;
        if (v === null || (isScalar(v) && String(v.value) === '')) continue; // `ros__parameters:` with nothing under it
        if (!isMap(v)) throw new ParamsFileError(path, line, `node '${nodeKey}': 'ros__parameters' must be a map of parameter names`);
        flattenParams(v, '', entry.params, src, o);
        continue;
      }
      const v = pair.value as YamlNode | null;
      if (v === null || !isMap(v)) {
        throw new ParamsFileError(path, line,
          `'${keyText}' has a value but no 'ros__parameters' above it (expected \`node_name: {ros__parameters: {${keyText}: ...}}\`)`);
      }
      walkNode(v, joinNodeKey(prefix, keyText));
    }
  };
  walkNode(root, '');
  return { path, entries };
}

function flattenParams(map: YamlNode, prefix: string, out: Map<string, ParamOverride>, src: string, o: ValueOrigin): void {
  if (!isMap(map)) return;
  for (const pair of map.items) {
    const k = pair.key as YamlNode;
    if (!isScalar(k) || String(k.value) === '') throw new ParamsFileError(o.file, o.line(k?.range?.[0] ?? 0), 'parameter names must be non-empty scalars');
    const name = prefix === '' ? String(k.value) : `${prefix}.${String(k.value)}`;
    const v = pair.value as YamlNode | null;
    if (v !== null && isMap(v)) {
      flattenParams(v, name, out, src, o);
      continue;
    }
    const line = o.line((v ?? k).range?.[0] ?? 0);
    if (v === null) throw new ParamsFileError(o.file, line, `parameter '${name}': no value`);
    const typed = yamlValueToParam(v, src, o, name);
    // A re-declared name overwrites in place, as in rcl.
    out.delete(name);
    out.set(name, { ...typed, source: `${o.file}:${line}` });
  }
}

export function loadParamsFile(path: string): ParamsFile {
  let src: string;
  try {
    src = readTextBounded(path);
  } catch (e) {
    if (e instanceof FileTooLargeError) throw new ParamsFileError(path, undefined, `cannot read params file: ${e.message}`);
    throw new ParamsFileError(path, undefined, `cannot read params file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseParamsYaml(src, path);
}

/** A synthetic params file, for `-p name:=value` (key `/**`) or a launch file's inline `<param>`s. */
export function inlineParams(nodeKey: string, params: ReadonlyMap<string, ParamOverride>, path = '<inline>'): ParamsFile {
  return { path, entries: [{ nodeKey: normalizeNodeKey(nodeKey), params: new Map(params) }] };
}

// ---------------------------------------------------------------------------------------------
// Matching.

/** rclcpp's rule: `/*` → one name token, `/**` → any number of tokens; the whole fqn must match. */
export function nodeKeyRegex(nodeKey: string): RegExp {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = normalizeNodeKey(nodeKey).split('/*');
  let re = esc(parts[0]!);
  for (const part of parts.slice(1)) {
    re += '(/\\w+)';
    re += part.startsWith('*') ? `*${esc(part.slice(1))}` : esc(part);
  }
  return new RegExp(`^${re}$`);
}

export function nodeKeyMatches(nodeKey: string, nodeFqn: string): boolean {
  return nodeKeyRegex(nodeKey).test(nodeFqn);
}

/**
 * The parameters a node with this fully qualified name gets, as rcl + rclcpp compute them: all
 * files are merged into one table of node keys (in order of first appearance; a key seen again
 * in a later file updates its values in place), then every key matching the node applies in
 * that order, later overwriting earlier.
 */
export function paramsForNode(files: readonly ParamsFile[], nodeFqn: string): Map<string, ParamOverride> {
  const merged = new Map<string, Map<string, ParamOverride>>();
  for (const f of files) {
    for (const e of f.entries) {
      let m = merged.get(e.nodeKey);
      if (!m) merged.set(e.nodeKey, (m = new Map()));
      for (const [k, v] of e.params) m.set(k, v);
    }
  }
  const out = new Map<string, ParamOverride>();
  for (const [key, params] of merged) {
    if (!nodeKeyMatches(key, nodeFqn)) continue;
    for (const [k, v] of params) out.set(k, v);
  }
  return out;
}
