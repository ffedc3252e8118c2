/**
 * Node parameters, declared like rclcpp's declare_parameter: a type, a default, a
 * description and optional range/choices. Values come from ROS 2 params files and
 * `--ros-args -p`, and are checked against the declaration with an error that names
 * where the bad value came from.
 */
export type ParamType = 'bool' | 'int' | 'double' | 'string' | 'bool[]' | 'int[]' | 'double[]' | 'string[]';
export type ParamValue = boolean | number | string | boolean[] | number[] | string[];

type TsOf<T extends ParamType> = T extends 'bool' ? boolean
  : T extends 'int' | 'double' ? number
  : T extends 'string' ? string
  : T extends 'bool[]' ? boolean[]
  : T extends 'int[]' | 'double[]' ? number[]
  : string[];

/** `V` narrows the value type: a string parameter with choices has their union as its type. */
export interface ParamDecl<T extends ParamType = ParamType, V extends TsOf<T> = TsOf<T>> {
  type: T;
  default: V;
  description: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** Map-valued: every key `name.<sub>` of this type, e.g. `regions.queue: [x0, y0, x1, y1, ...]`. */
  group?: boolean;
  /**
   * May change while the node runs (`kestrel param set`, as a ROS 2 parameter without read_only). Only for
   * values the node reads from its params object each time it uses them (or re-reads in `paramsChanged`):
   * a value copied once at configure time would silently keep the old one.
   */
  dynamic?: boolean;
}

export type ParamDecls = Record<string, ParamDecl>;

export type ParamValues<D extends ParamDecls> = {
  readonly [K in keyof D]: D[K]['group'] extends true ? Readonly<Record<string, TsOf<D[K]['type']>>> : D[K]['default'];
};

interface Range {
  min?: number;
  max?: number;
}

function stringParam<const C extends string>(def: NoInfer<C>, description: string, choices: readonly C[]): ParamDecl<'string', C>;
function stringParam(def: string, description: string): ParamDecl<'string'>;
function stringParam(def: string, description: string, choices?: readonly string[]): ParamDecl<'string'> {
  return { type: 'string', default: def, description, choices };
}

function stringArrayParam<const C extends string>(def: NoInfer<C>[], description: string, choices: readonly C[]): ParamDecl<'string[]', C[]>;
function stringArrayParam(def: string[], description: string): ParamDecl<'string[]'>;
function stringArrayParam(def: string[], description: string, choices?: readonly string[]): ParamDecl<'string[]'> {
  return { type: 'string[]', default: def, description, choices };
}

/** Declaration helpers: `p.double(0.25, 'minimum score', { min: 0, max: 1 })`. */
export const p = {
  bool: (def: boolean, description: string): ParamDecl<'bool'> => ({ type: 'bool', default: def, description }),
  int: (def: number, description: string, r: Range = {}): ParamDecl<'int'> => ({ type: 'int', default: def, description, ...r }),
  double: (def: number, description: string, r: Range = {}): ParamDecl<'double'> => ({ type: 'double', default: def, description, ...r }),
  /** With `choices`, the parameter's type is their union (`'raw' | 'compressed'`), and the default must be one. */
  string: stringParam,
  boolArray: (def: boolean[], description: string): ParamDecl<'bool[]'> => ({ type: 'bool[]', default: def, description }),
  intArray: (def: number[], description: string, r: Range = {}): ParamDecl<'int[]'> => ({ type: 'int[]', default: def, description, ...r }),
  doubleArray: (def: number[], description: string, r: Range = {}): ParamDecl<'double[]'> => ({ type: 'double[]', default: def, description, ...r }),
  stringArray: stringArrayParam,
  /** Marks a declaration dynamic: `p.dynamic(p.string('Hello', 'greeting'))` (see ParamDecl.dynamic). */
  dynamic: <T extends ParamDecl>(d: T): T & { dynamic: true } => ({ ...d, dynamic: true }),
  /** A map of values of one type under a prefix (ROS 2 flattens nested YAML into dotted names). */
  group: <T extends ParamType>(type: T, description: string): ParamDecl<T> & { group: true } =>
    ({ type, default: (type.endsWith('[]') ? [] : undefined) as unknown as TsOf<T>, description, group: true }),
};

/** A value as given by a params file or the command line, with where it came from. */
export interface ParamOverride {
  value: ParamValue;
  /** The type as written: YAML `1` is int, `1.0` is double (ROS 2 keeps the distinction). */
  type: ParamType;
  /** e.g. `config/drone.yaml:12` or `--ros-args -p` */
  source: string;
  /** An int (or int list) past ±2^53, where `value` is only the nearest double: the exact int64 value(s). */
  exact?: bigint | bigint[];
}

export class ParamError extends Error {
  constructor(readonly node: string, readonly key: string, readonly source: string, detail: string) {
    super(`${source}: parameter '${key}' of node '${node}': ${detail}`);
    this.name = 'ParamError';
  }
}

/** Infers the ROS 2 parameter type of a plain value (used for `-p name:=value` and YAML). */
export function inferParamType(value: ParamValue, looksFloat = false): ParamType {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) && !looksFloat ? 'int' : 'double';
  if (typeof value === 'string') return 'string';
  if (value.length === 0) return 'string[]';
  const el = value[0];
  if (typeof el === 'boolean') return 'bool[]';
  if (typeof el === 'number') return (value as number[]).every((v) => Number.isInteger(v)) && !looksFloat ? 'int[]' : 'double[]';
  return 'string[]';
}

function typeAccepts(decl: ParamType, given: ParamType): boolean {
  if (decl === given) return true;
  // Widening int → double loses nothing; ROS 2 refuses it, which mostly trips people up.
  if (decl === 'double' && given === 'int') return true;
  if (decl === 'double[]' && given === 'int[]') return true;
  // An empty YAML list has no element type.
  return decl.endsWith('[]') && given.endsWith('[]');
}

/** Checks one value against its declaration (type, finiteness, range, choices); ParamError names `o.source`. */
export function checkParam(node: string, key: string, decl: ParamDecl, o: ParamOverride): ParamValue {
  if (!typeAccepts(decl.type, o.type)) {
    if (!(decl.type.endsWith('[]') && Array.isArray(o.value) && o.value.length === 0)) {
      throw new ParamError(node, key, o.source, `expected ${decl.type}, got ${o.type} (${JSON.stringify(o.value)})`);
    }
  }
  // Nodes hold ints as JS numbers: an int64 they cannot hold exactly is refused, not rounded.
  if ((decl.type === 'int' || decl.type === 'int[]') && o.exact !== undefined) {
    throw new ParamError(node, key, o.source, `${Array.isArray(o.exact) ? `[${o.exact.join(', ')}]` : String(o.exact)} is beyond ±2^53, which a Kestrel int parameter cannot hold exactly`);
  }
  const nums = typeof o.value === 'number' ? [o.value] : Array.isArray(o.value) && typeof o.value[0] === 'number' ? (o.value as number[]) : [];
  for (const n of nums) {
    if (!Number.isFinite(n)) throw new ParamError(node, key, o.source, `expected a finite number, got ${n}`);
    if (decl.min !== undefined && n < decl.min) throw new ParamError(node, key, o.source, `${n} is below the minimum ${decl.min}`);
    if (decl.max !== undefined && n > decl.max) throw new ParamError(node, key, o.source, `${n} is above the maximum ${decl.max}`);
  }
  if (decl.choices) {
    const strs = typeof o.value === 'string' ? [o.value] : Array.isArray(o.value) ? (o.value as string[]) : [];
    for (const s of strs) {
      if (!decl.choices.includes(s)) throw new ParamError(node, key, o.source, `'${s}' is not one of ${decl.choices.join(', ')}`);
    }
  }
  return o.value;
}

/** Parameters every node accepts, as in rclcpp. */
export const COMMON_PARAMS = {
  use_sim_time: p.bool(false, 'Use /clock (sim or bag time) instead of the system clock'),
} satisfies ParamDecls;

export interface ResolvedParams<D extends ParamDecls> {
  values: ParamValues<D>;
  /** Overrides that match no declaration: reported, not fatal (params files often share `/**` keys). */
  unknown: string[];
}

/** Declarations + overrides → typed values. Throws ParamError on the first invalid value. */
export function resolveParams<D extends ParamDecls>(node: string, decls: D, overrides: ReadonlyMap<string, ParamOverride>): ResolvedParams<D> {
  const values: Record<string, unknown> = {};
  const used = new Set<string>();
  for (const [key, decl] of Object.entries(decls)) {
    if (decl.group) {
      const map: Record<string, ParamValue> = {};
      for (const [k, o] of overrides) {
        if (k.startsWith(`${key}.`)) {
          map[k.slice(key.length + 1)] = checkParam(node, k, decl, o);
          used.add(k);
        }
      }
      values[key] = map;
      continue;
    }
    const o = overrides.get(key);
    if (o) {
      values[key] = checkParam(node, key, decl, o);
      used.add(key);
    } else {
      values[key] = Array.isArray(decl.default) ? [...decl.default] : decl.default;
    }
  }
  const unknown = [...overrides.keys()].filter((k) => !used.has(k) && !(k in COMMON_PARAMS));
  return { values: values as ParamValues<D>, unknown };
}

/** `kestrel params <node>`: the declarations as a table. */
export function describeParams(decls: ParamDecls): string[] {
  return Object.entries(decls).map(([k, d]) => {
    const range = d.min !== undefined || d.max !== undefined ? ` [${d.min ?? '-inf'}, ${d.max ?? 'inf'}]` : '';
    const choices = d.choices ? ` {${d.choices.join('|')}}` : '';
    const def = d.group ? `${k}.<name>` : JSON.stringify(d.default);
    return `${k} (${d.type}${d.group ? ' map' : ''}${range}${choices}${d.dynamic ? ', dynamic' : ''}) = ${def}: ${d.description}`;
  });
}
