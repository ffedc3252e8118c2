/**
 * Command-line options for the `kestrel` commands, parsed by node:util parseArgs. Its tokens are read here only to
 * keep Kestrel's usage messages (`unknown option '--x'`, `--out needs a value`, exit 2) and ros2-style list options
 * (`--topics /a /b`, as `ros2 bag` takes them). ROS arguments are split off before (runtime/ros-args.ts).
 */
import { parseArgs } from 'node:util';
import { UsageError } from './command.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-letter alias (`-o`). */
  short?: string;
  /** Repeatable: each occurrence adds one value. */
  multiple?: boolean;
  /** ros2-style list: the values that follow, up to the next option (`--topics /a /b`); repeatable. */
  list?: boolean;
  /** What the usage error says is missing (`--params-file needs a file`); default 'value'. */
  valueName?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { list: true } | { multiple: true } ? string[] : string;
};

export interface ParsedArgs<O extends OptionSpecs> {
  values: OptionValues<O>;
  positionals: string[];
}

/** Parses `argv` against `options` (long names without `--`); wrong usage is a UsageError with the option's name. */
export function parseOptions<const O extends OptionSpecs>(argv: readonly string[], options: O): ParsedArgs<O> {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.list || o.multiple ? { multiple: true } : {}) }]),
  );
  // strict: false so that unknown options and missing values come back as tokens, for our own messages.
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  let list: string[] | undefined;
  for (const t of tokens) {
    if (t.kind === 'option-terminator') {
      list = undefined;
      continue;
    }
    if (t.kind === 'positional') {
      if (list) list.push(t.value);
      else positionals.push(t.value);
      continue;
    }
    list = undefined;
    const o = options[t.name];
    if (!o || (o.type === 'boolean' && t.value !== undefined)) throw new UsageError(`unknown option '${t.inlineValue ? `${t.rawName}=${t.value}` : t.rawName}'`);
    if (o.type === 'boolean') {
      values[t.name] = true;
      continue;
    }
    if (o.list) {
      // A list takes values up to the next option: `--topics --loop` has none.
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))) throw new UsageError(`${t.rawName} needs at least one value`);
      list = (values[t.name] as string[] | undefined) ?? [];
      list.push(t.value);
      values[t.name] = list;
      continue;
    }
    if (t.value === undefined) throw new UsageError(`${t.rawName} needs a ${o.valueName ?? 'value'}`);
    if (o.multiple) values[t.name] = [...((values[t.name] as string[] | undefined) ?? []), t.value];
    else values[t.name] = t.value;
  }
  return { values: values as OptionValues<O>, positionals };
}
