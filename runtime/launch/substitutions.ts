/**
 * Launch substitutions: `$(var x)`, `$(env X [default])`, `$(optenv X [default])`,
 * `$(find-pkg-share pkg)`, `$(find-pkg-prefix pkg)`, `$(dirname)`, `$(filename)`,
 * `$(file-content path)`, `$(eval expr)` (literals and operators only), `$(not x)`, `$(and a b)`,
 * `$(or a b)`, `$(equals a b)`, `$(not-equals a b)`. Arguments split on whitespace; single or
 * double quotes group an argument and may themselves contain substitutions.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileTooLargeError, MAX_TEXT_FILE_BYTES, readTextBounded } from '../read-bounded.js';
import { evalPythonExpr } from './eval.js';
import { SubstitutionError } from './substitution-error.js';

export type SubstPart = { kind: 'text'; text: string } | { kind: 'subst'; name: string; args: SubstPart[][] };

export { SubstitutionError };

/** Parses `text` into literal and substitution parts. Throws SubstitutionError on unbalanced `$(`. */
export function parseSubstitutions(text: string): SubstPart[] {
  let i = 0;
  const parseSeq = (stopAt: (c: string) => boolean): SubstPart[] => {
    const parts: SubstPart[] = [];
    let lit = '';
    while (i < text.length && !stopAt(text[i]!)) {
      if (text[i] === '$' && text[i + 1] === '(') {
        if (lit) parts.push({ kind: 'text', text: lit });
        lit = '';
        parts.push(parseSubst());
      } else {
        lit += text[i++];
      }
    }
    if (lit) parts.push({ kind: 'text', text: lit });
    return parts;
  };
  const parseSubst = (): SubstPart => {
    const start = i;
    i += 2;
    let name = '';
    while (i < text.length && /[\w-]/.test(text[i]!)) name += text[i++];
    if (name === '') throw new SubstitutionError(`'$(' without a substitution name at column ${start + 1} of '${text}'`);
    const args: SubstPart[][] = [];
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (i >= text.length) throw new SubstitutionError(`unclosed '$(${name}' in '${text}'`);
      if (text[i] === ')') {
        i++;
        return { kind: 'subst', name, args };
      }
      const q = text[i];
      if (q === "'" || q === '"') {
        i++;
        const arg = parseSeq((c) => c === q);
        if (i >= text.length) throw new SubstitutionError(`unclosed quote in '$(${name} ...' of '${text}'`);
        i++;
        args.push(arg);
      } else {
        args.push(parseSeq((c) => /\s/.test(c) || c === ')'));
      }
    }
  };
  return parseSeq(() => false);
}

export interface SubstContext {
  configs: ReadonlyMap<string, string>;
  env: Readonly<Record<string, string | undefined>>;
  /** Absolute path of the launch file being read. */
  file: string;
  /** Package `kestrel` resolves here (the repo root). */
  kestrelRoot: string;
  /** Largest file `$(file-content)` reads (default MAX_TEXT_FILE_BYTES, 16 MiB). */
  maxFileBytes?: number;
  /** Install prefixes searched before AMENT_PREFIX_PATH's (`kestrel launch --ament-prefix-path`). */
  amentPrefixes?: readonly string[];
}

/** Where packages are found: `--ament-prefix-path` entries, then AMENT_PREFIX_PATH's. */
export interface PackageLookup {
  env: Readonly<Record<string, string | undefined>>;
  kestrelRoot: string;
  amentPrefixes?: readonly string[];
}

/** The install prefix holding `pkg` (ament index marker or `<prefix>/share/<pkg>`); package `kestrel` is this repository. */
export function findPkgPrefix(pkg: string, ctx: PackageLookup): string {
  if (pkg === 'kestrel') return ctx.kestrelRoot;
  const prefixes = [...(ctx.amentPrefixes ?? []), ...(ctx.env.AMENT_PREFIX_PATH ?? '').split(':')].filter((s) => s !== '');
  for (const prefix of prefixes) {
    if (existsSync(join(prefix, 'share', 'ament_index', 'resource_index', 'packages', pkg)) || existsSync(join(prefix, 'share', pkg))) return prefix;
  }
  const flag = ctx.amentPrefixes?.length ? `--ament-prefix-path ${ctx.amentPrefixes.join(':')}, then ` : '';
  throw new SubstitutionError(
    `package '${pkg}' not found (package 'kestrel' is this repository; others are looked up as <prefix>/share/${pkg} in ${flag}AMENT_PREFIX_PATH=${ctx.env.AMENT_PREFIX_PATH ?? '(unset)'})`,
  );
}

/** `$(find-pkg-share pkg)`: `<prefix>/share/<pkg>`, or the repository for `kestrel`. */
export function findPkgShare(pkg: string, ctx: PackageLookup): string {
  return pkg === 'kestrel' ? ctx.kestrelRoot : join(findPkgPrefix(pkg, ctx), 'share', pkg);
}

function asBool(v: string, what: string): boolean {
  const l = v.trim().toLowerCase();
  if (l === 'true' || l === '1') return true;
  if (l === 'false' || l === '0') return false;
  throw new SubstitutionError(`${what}: '${v}' is not a boolean (expected true/false/1/0)`);
}

function evaluate(parts: readonly SubstPart[], ctx: SubstContext): string {
  let out = '';
  for (const p of parts) out += p.kind === 'text' ? p.text : evalOne(p, ctx);
  return out;
}

function evalOne(p: Extract<SubstPart, { kind: 'subst' }>, ctx: SubstContext): string {
  const args = p.args.map((a) => evaluate(a, ctx));
  const want = (min: number, max: number): void => {
    if (args.length < min || args.length > max) {
      throw new SubstitutionError(`$(${p.name}) takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`);
    }
  };
  switch (p.name) {
    case 'var': {
      // `$(var name default)`: launch's LaunchConfiguration takes an optional default.
      want(1, 2);
      const v = ctx.configs.get(args[0]!) ?? args[1];
      if (v === undefined) throw new SubstitutionError(`launch configuration '${args[0]}' does not exist (declare it with <arg> or <let>)`);
      return v;
    }
    case 'env': {
      want(1, 2);
      const v = ctx.env[args[0]!];
      if (v !== undefined) return v;
      if (args.length === 2) return args[1]!;
      throw new SubstitutionError(`environment variable '${args[0]}' does not exist (give a default: $(env ${args[0]} default))`);
    }
    case 'optenv':
      want(1, 2);
      return ctx.env[args[0]!] ?? args[1] ?? '';
    case 'find-pkg-share':
    case 'find_pkg_share': {
      want(1, 1);
      return findPkgShare(args[0]!, ctx);
    }
    case 'find-pkg-prefix':
    case 'find_pkg_prefix':
      want(1, 1);
      return findPkgPrefix(args[0]!, ctx);
    case 'dirname':
      want(0, 0);
      return dirname(ctx.file);
    case 'filename':
      want(0, 0);
      return basename(ctx.file);
    case 'file-content':
    case 'file_content': {
      want(1, 1);
      // Bounded: $(file-content /dev/zero) must be an error, not gigabytes of memory.
      try {
        return readTextBounded(args[0]!, ctx.maxFileBytes ?? MAX_TEXT_FILE_BYTES);
      } catch (e) {
        if (e instanceof FileTooLargeError) throw new SubstitutionError(`$(file-content ${args[0]}): ${e.message}`);
        throw new SubstitutionError(`$(file-content ${args[0]}): cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    case 'eval':
      want(1, 1);
      return evalPythonExpr(args[0]!);
    case 'not':
      want(1, 1);
      return asBool(args[0]!, '$(not)') ? 'false' : 'true';
    case 'and':
      want(2, 2);
      return asBool(args[0]!, '$(and)') && asBool(args[1]!, '$(and)') ? 'true' : 'false';
    case 'or':
      want(2, 2);
      return asBool(args[0]!, '$(or)') || asBool(args[1]!, '$(or)') ? 'true' : 'false';
    case 'equals':
      want(2, 2);
      return args[0] === args[1] ? 'true' : 'false';
    case 'not-equals':
    case 'not_equals':
      want(2, 2);
      return args[0] !== args[1] ? 'true' : 'false';
    default:
      throw new SubstitutionError(
        `unsupported substitution '$(${p.name})' (supported: var, env, optenv, find-pkg-share, find-pkg-prefix, dirname, filename, file-content, eval, not, and, or, equals, not-equals)`,
      );
  }
}

/** Evaluates every substitution in `text`. Throws SubstitutionError with the reason. */
export function substitute(text: string, ctx: SubstContext): string {
  if (!text.includes('$(')) return text;
  return evaluate(parseSubstitutions(text), ctx);
}
