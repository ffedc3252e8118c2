/**
 * `--ros-args ... --` as rcl parses it: `-p/--param [node:]name:=value` (value typed as YAML by
 * rcl's rules), `-r/--remap [node:]from:=to` (incl. `__node`, `__name`, `__ns`), `--params-file`,
 * `--log-level [logger:=]level`, `-e/--enclave`, and the logging switches. Parameter sources stay
 * in command-line order because rcl merges them into one table in that order.
 */
import { isMap, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { Remap } from './names.js';
import type { ParamOverride } from './params.js';
import { inlineParams, loadParamsFile, ParamsFileError, yamlValueToParam, type ParamsFile } from './params-file.js';

export class RosArgsError extends Error {
  constructor(detail: string) {
    super(`--ros-args: ${detail}`);
    this.name = 'RosArgsError';
  }
}

export type RosLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'unset';

export interface RosArgs {
  /** Params files and `-p` values, in command-line order (each `-p` is a one-entry file). */
  params: ParamsFile[];
  remaps: Remap[];
  /** From `-r __node:=` / `__name:=`, if given without a node prefix. */
  nodeName?: string;
  /** From `-r __ns:=`. */
  namespace?: string;
  logLevels: { logger?: string; level: RosLogLevel }[];
  enclave?: string;
  /** Accepted logging switches (`--disable-stdout-logs`, `--log-file-name x`, ...), kept verbatim. */
  logging: string[];
}

const LEVELS: readonly RosLogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal', 'unset'];
const SWITCHES = new Set([
  '--enable-rosout-logs', '--disable-rosout-logs', '--enable-stdout-logs', '--disable-stdout-logs',
  '--enable-external-lib-logs', '--disable-external-lib-logs',
]);
const WITH_VALUE = new Set(['--log-file-name', '--log-config-file']);
const NAME_RE = /^[A-Za-z_~/][\w/{}~]*$/;

export interface ParseRosArgsOptions {
  /** Reads `--params-file` paths; default reads the file (tests can inject). */
  loadFile?: (path: string) => ParamsFile;
}

/** Types `-p` values exactly as rcl_parse_yaml_value would: a YAML scalar or flat list. */
export function parseParamValue(text: string, source: string, name = 'value'): Omit<ParamOverride, 'source'> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', lineCounter: lc });
  if (doc.errors.length > 0) throw new RosArgsError(`${source}: invalid YAML value '${text}': ${doc.errors[0]!.message.split('\n')[0]}`);
  const node = doc.contents as YamlNode | null;
  if (node === null) throw new RosArgsError(`${source}: empty value (use '' for an empty string)`);
  if (isMap(node)) throw new RosArgsError(`${source}: value '${text}' is a map; expected a scalar or a list of scalars`);
  try {
    return yamlValueToParam(node, text, { file: source, line: () => 1 }, name);
  } catch (e) {
    throw new RosArgsError(`${source}: ${e instanceof ParamsFileError ? e.detail : (e as Error).message}`);
  }
}

function splitRule(rule: string, flag: string): { node?: string; lhs: string; rhs: string } {
  const i = rule.indexOf(':=');
  if (i <= 0) throw new RosArgsError(`${flag} '${rule}': expected [node:]name:=value`);
  let lhs = rule.slice(0, i);
  const rhs = rule.slice(i + 2);
  let node: string | undefined;
  const colon = lhs.indexOf(':');
  if (colon >= 0) {
    node = lhs.slice(0, colon);
    lhs = lhs.slice(colon + 1);
    if (node === '' || !/^[A-Za-z_]\w*$/.test(node)) throw new RosArgsError(`${flag} '${rule}': invalid node name prefix '${node}'`);
  }
  if (lhs === '') throw new RosArgsError(`${flag} '${rule}': empty name before ':='`);
  return { node, lhs, rhs };
}

/**
 * Parses the tokens of one `--ros-args` section. A leading `--ros-args` is skipped, parsing stops
 * at `--`. Unknown flags and malformed rules throw RosArgsError.
 */
export function parseRosArgs(argv: readonly string[], opts: ParseRosArgsOptions = {}): RosArgs {
  const load = opts.loadFile ?? loadParamsFile;
  const out: RosArgs = { params: [], remaps: [], logLevels: [], logging: [] };
  let i = argv[0] === '--ros-args' ? 1 : 0;
  const next = (flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v === '--' || v === '--ros-args') throw new RosArgsError(`${flag} needs an argument`);
    i++;
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--ros-args') continue;
    switch (a) {
      case '-p':
      case '--param': {
        const rule = next(a);
        const { node, lhs, rhs } = splitRule(rule, a);
        if (!/^[A-Za-z_][\w.]*$/.test(lhs)) throw new RosArgsError(`${a} '${rule}': invalid parameter name '${lhs}'`);
        const source = `--ros-args -p ${rule}`;
        const v = parseParamValue(rhs, `${a} ${rule}`, lhs);
        out.params.push(inlineParams(node ?? '/**', new Map([[lhs, { ...v, source }]]), source));
        break;
      }
      case '-r':
      case '--remap': {
        const rule = next(a);
        const { node, lhs, rhs } = splitRule(rule, a);
        if (rhs === '') throw new RosArgsError(`${a} '${rule}': empty replacement after ':='`);
        if (lhs === '__node' || lhs === '__name') {
          if (!/^[A-Za-z_]\w*$/.test(rhs)) throw new RosArgsError(`${a} '${rule}': invalid node name '${rhs}'`);
          if (node === undefined) out.nodeName = rhs;
        } else if (lhs === '__ns') {
          if (!/^\/([A-Za-z_]\w*(\/[A-Za-z_]\w*)*)?$/.test(rhs)) throw new RosArgsError(`${a} '${rule}': namespace must be absolute, e.g. /drone1 (got '${rhs}')`);
          if (node === undefined) out.namespace = rhs;
        } else if (lhs.startsWith('__')) {
          throw new RosArgsError(`${a} '${rule}': unknown special remap '${lhs}' (known: __node, __name, __ns)`);
        } else if (!NAME_RE.test(lhs) || !NAME_RE.test(rhs)) {
          throw new RosArgsError(`${a} '${rule}': invalid topic or service name`);
        }
        out.remaps.push(node === undefined ? { from: lhs, to: rhs } : { from: lhs, to: rhs, node });
        break;
      }
      case '--params-file': {
        const path = next(a);
        out.params.push(load(path));
        break;
      }
      case '--log-level': {
        const v = next(a);
        const i2 = v.indexOf(':=');
        const logger = i2 >= 0 ? v.slice(0, i2) : undefined;
        const level = (i2 >= 0 ? v.slice(i2 + 2) : v).toLowerCase() as RosLogLevel;
        if (!LEVELS.includes(level)) throw new RosArgsError(`--log-level '${v}': level must be one of ${LEVELS.join(', ')}`);
        out.logLevels.push(logger === undefined ? { level } : { logger, level });
        break;
      }
      case '-e':
      case '--enclave':
        out.enclave = next(a);
        break;
      default:
        if (SWITCHES.has(a)) out.logging.push(a);
        else if (WITH_VALUE.has(a)) out.logging.push(a, next(a));
        else throw new RosArgsError(`unknown argument '${a}' (known: -p/--param, -r/--remap, --params-file, --log-level, -e/--enclave, ${[...SWITCHES, ...WITH_VALUE].join(', ')})`);
    }
  }
  return out;
}

/** Splits a full argv into the program's own arguments and the merged `--ros-args` sections. */
export function extractRosArgs(argv: readonly string[], opts: ParseRosArgsOptions = {}): { rest: string[]; ros: RosArgs } {
  const rest: string[] = [];
  const rosTokens: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--ros-args') {
      rest.push(argv[i]!);
      continue;
    }
    i++;
    for (; i < argv.length && argv[i] !== '--'; i++) rosTokens.push(argv[i]!);
  }
  return { rest, ros: parseRosArgs(rosTokens, opts) };
}
