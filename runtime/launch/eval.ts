/**
 * `$(eval ...)` for what launch files write in it: Python literals (ints, floats, strings,
 * True/False/None, lists and tuples), arithmetic, comparison, `in`, boolean operators, `x if c
 * else y`, and a few pure builtins and `math` members (launch's PythonExpression puts math's names
 * in scope). Results are Python's `str()` of the value: ints are exact (BigInt, `2**100`), floats
 * print as Python's repr (`1e+16`, `1e-07`, `-0.0`), strings repeat with `*`. Anything else
 * (other names, attribute access, imports) is refused with a clear error: running arbitrary
 * Python is not something an embedded launcher should pretend to do.
 */
import { SubstitutionError } from './substitution-error.js';

/** A Python value: `bigint` is int, `{ f }` float, arrays list/tuple. */
type Py = bigint | { f: number } | string | boolean | null | PyList;
interface PyList {
  items: Py[];
  tuple: boolean;
}

type Tok = { t: 'int'; v: bigint } | { t: 'float'; v: number } | { t: 'str'; v: string } | { t: 'op'; v: string } | { t: 'name'; v: string };

const KEYWORDS = new Set(['True', 'False', 'None', 'and', 'or', 'not', 'in', 'if', 'else', 'is']);
/** Python's int → str limit (sys.get_int_max_str_digits, 3.11+): past it str() raises, and so do we, before computing. */
const MAX_INT_DIGITS = 4300;

const fail = (src: string, why: string): SubstitutionError => new SubstitutionError(`$(eval '${src}'): ${why}`);

function unescape(body: string, src: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/gs, (_m, c: string) => {
    if (c.length > 1) return String.fromCharCode(parseInt(c.slice(1), 16));
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"', '\n': '' };
    const v = map[c];
    if (v === undefined) throw fail(src, `unsupported escape '\\${c}' in a string literal`);
    return v;
  });
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const num = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*\.[\d_]*|\.\d[\d_]*|\d[\d_]*)([eE][+-]?\d+)?)/.exec(rest);
    if (num && !/^[A-Za-z_]/.test(rest.slice(num[0].length))) {
      const text = num[0].replace(/_/g, '');
      if (/^0[xXoObB]/.test(text)) out.push({ t: 'int', v: BigInt(text.toLowerCase()) });
      else if (/[.eE]/.test(text)) out.push({ t: 'float', v: Number(text) });
      else if (/^0+\d/.test(text)) throw fail(src, `leading zeros in '${text}' are not allowed in Python (use 0o for octal)`);
      else out.push({ t: 'int', v: BigInt(text) });
      i += num[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw fail(src, 'unclosed string literal');
      out.push({ t: 'str', v: unescape(src.slice(i + 1, j), src) });
      i = j + 1;
      continue;
    }
    const op = /^(==|!=|<=|>=|\/\/|\*\*|[-+*/%<>()[\],.])/.exec(rest);
    if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
      continue;
    }
    const word = /^[A-Za-z_]\w*/.exec(rest);
    if (word) {
      out.push(KEYWORDS.has(word[0]) ? { t: 'op', v: word[0] } : { t: 'name', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw fail(src, `unexpected character '${c}'`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// str() / repr()

/** Python's float repr: shortest round-trip digits; fixed for exponents -4..15, else d.ddde±XX. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${int}.${frac === '' ? '0' : frac}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

const isFloat = (v: Py): v is { f: number } => typeof v === 'object' && v !== null && 'f' in v;
const isList = (v: Py): v is PyList => typeof v === 'object' && v !== null && 'items' in v;

function strRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}

function repr(v: Py): string {
  return typeof v === 'string' ? strRepr(v) : pyStr(v);
}

function pyStr(v: Py): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (isFloat(v)) return pyFloatRepr(v.f);
  if (isList(v)) {
    const inner = v.items.map(repr).join(', ');
    return v.tuple ? `(${inner}${v.items.length === 1 ? ',' : ''})` : `[${inner}]`;
  }
  return v;
}

const typeName = (v: Py): string =>
  v === null ? 'NoneType' : typeof v === 'boolean' ? 'bool' : typeof v === 'bigint' ? 'int' : typeof v === 'string' ? 'str' : isFloat(v) ? 'float' : v.tuple ? 'tuple' : 'list';

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Evaluates a Python expression of the supported kind and returns `str()` of the result, as launch does. */
export function evalPythonExpr(src: string): string {
  const toks = tokenize(src);
  if (toks.length === 0) throw new SubstitutionError('$(eval): empty expression');
  let i = 0;
  const isOp = (v: string, k = 0): boolean => {
    const t = toks[i + k];
    return t !== undefined && t.t === 'op' && t.v === v;
  };
  const expect = (v: string): void => {
    if (!isOp(v)) throw fail(src, toks[i] ? `expected '${v}', got '${String(toks[i]!.v)}'` : `expected '${v}' at the end`);
    i++;
  };

  /** int-like (bool counts as int, as in Python) → bigint, else undefined. */
  const asInt = (v: Py): bigint | undefined => (typeof v === 'bigint' ? v : typeof v === 'boolean' ? (v ? 1n : 0n) : undefined);
  const toFloat = (v: Py, op: string): number => {
    if (isFloat(v)) return v.f;
    const n = asInt(v);
    if (n === undefined) throw fail(src, `unsupported operand type(s) for ${op}: '${typeName(v)}'`);
    const f = Number(n);
    if (!Number.isFinite(f)) throw fail(src, 'int too large to convert to float');
    return f;
  };
  const floatResult = (r: number): Py => {
    if (!Number.isFinite(r)) throw fail(src, 'float result out of range (OverflowError in Python)');
    return { f: r };
  };
  const checkDigits = (n: bigint): bigint => {
    // bit length * log10(2) bounds the digit count without printing a huge number.
    if ((n < 0n ? -n : n).toString(16).length * 4 * 0.30103 > MAX_INT_DIGITS + 1) throw fail(src, `integer result has more than ${MAX_INT_DIGITS} digits`);
    return n;
  };
  const floorDiv = (a: bigint, b: bigint): bigint => {
    const q = a / b;
    return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
  };

  const arith = (a: Py, b: Py, op: string): Py => {
    const bad = (): SubstitutionError => fail(src, `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
    if (typeof a === 'string' || typeof b === 'string' || isList(a) || isList(b)) {
      if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
      if (op === '+' && isList(a) && isList(b) && a.tuple === b.tuple) return { items: [...a.items, ...b.items], tuple: a.tuple };
      if (op === '*') {
        const [seq, n] = asInt(b) !== undefined ? [a, asInt(b)!] : [b, asInt(a)];
        if (n === undefined || !(typeof seq === 'string' || isList(seq))) throw bad();
        const times = n < 0n ? 0 : Number(n);
        const len = typeof seq === 'string' ? seq.length : seq.items.length;
        if (len * times > 1 << 24) throw fail(src, 'repeated sequence would be larger than 16 MiB');
        return typeof seq === 'string' ? seq.repeat(times) : { items: Array.from({ length: times }, () => seq.items).flat(), tuple: seq.tuple };
      }
      throw bad();
    }
    if (a === null || b === null) throw bad();
    const x = asInt(a);
    const y = asInt(b);
    if (x !== undefined && y !== undefined && op !== '/') {
      if ((op === '//' || op === '%') && y === 0n) throw fail(src, 'integer division or modulo by zero');
      switch (op) {
        case '+': return checkDigits(x + y);
        case '-': return checkDigits(x - y);
        case '*': return checkDigits(x * y);
        case '//': return floorDiv(x, y);
        case '%': return x - y * floorDiv(x, y);
        default: {
          if (y < 0n) {
            if (x === 0n) throw fail(src, '0.0 cannot be raised to a negative power');
            return floatResult(Number(x) ** Number(y));
          }
          const bits = (x < 0n ? -x : x).toString(2).length;
          if (x !== 0n && x !== 1n && x !== -1n && (bits - 1) * Number(y) * 0.30103 > MAX_INT_DIGITS) throw fail(src, `integer result has more than ${MAX_INT_DIGITS} digits`);
          return x ** y;
        }
      }
    }
    const p = toFloat(a, op);
    const q = toFloat(b, op);
    if ((op === '/' || op === '//' || op === '%') && q === 0) throw fail(src, op === '/' ? 'division by zero' : 'float division or modulo by zero');
    switch (op) {
      case '+': return floatResult(p + q);
      case '-': return floatResult(p - q);
      case '*': return floatResult(p * q);
      case '/': {
        // int / int is correctly rounded in Python even past 2^53; Number() of each side is close enough for launch files.
        return floatResult(p / q);
      }
      case '//': return floatResult(Math.floor(p / q));
      case '%': {
        const r = p % q;
        return { f: r !== 0 && (r < 0) !== (q < 0) ? r + q : r === 0 ? (q < 0 ? -0 : 0) : r };
      }
      default: {
        if (p < 0 && !Number.isInteger(q)) throw fail(src, 'negative number raised to a fractional power is complex');
        if (p === 0 && q < 0) throw fail(src, '0.0 cannot be raised to a negative power');
        return floatResult(p ** q);
      }
    }
  };

  const eq = (a: Py, b: Py): boolean => {
    if (isList(a) || isList(b)) return isList(a) && isList(b) && a.tuple === b.tuple && a.items.length === b.items.length && a.items.every((x, k) => eq(x, b.items[k]!));
    if (typeof a === 'string' || typeof b === 'string') return a === b;
    if (a === null || b === null) return a === b;
    const x = asInt(a) ?? (a as { f: number }).f;
    const y = asInt(b) ?? (b as { f: number }).f;
    // bigint == number compares exact values in JS, as Python compares int with float.
    return typeof x === typeof y ? x === y : x == y;
  };
  const order = (a: Py, b: Py, op: string): boolean => {
    let c: number;
    if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
    else if (a !== null && b !== null && !isList(a) && !isList(b) && typeof a !== 'string' && typeof b !== 'string') {
      const x = asInt(a) ?? (a as { f: number }).f;
      const y = asInt(b) ?? (b as { f: number }).f;
      c = x < y ? -1 : x > y ? 1 : 0;
      // NaN compares false both ways.
      if (Number.isNaN(Number(x)) || Number.isNaN(Number(y))) return false;
    } else throw fail(src, `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
    return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
  };
  const contains = (hay: Py, needle: Py): boolean => {
    if (typeof hay === 'string') {
      if (typeof needle !== 'string') throw fail(src, `'in <string>' requires string as left operand, not ${typeName(needle)}`);
      return hay.includes(needle);
    }
    if (isList(hay)) return hay.items.some((x) => eq(x, needle));
    throw fail(src, `argument of type '${typeName(hay)}' is not iterable`);
  };
  const truthy = (v: Py): boolean => {
    if (v === null) return false;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return v !== 0n;
    if (typeof v === 'string') return v !== '';
    if (isFloat(v)) return v.f !== 0;
    return v.items.length > 0;
  };

  const MATH_CONST: Record<string, number> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI, inf: Infinity, nan: NaN };
  const MATH_FN: Record<string, (x: number) => number> = {
    sqrt: Math.sqrt, sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan,
    exp: Math.exp, log10: Math.log10, log2: Math.log2, radians: (x) => (x * Math.PI) / 180, degrees: (x) => (x * 180) / Math.PI, fabs: Math.abs,
  };
  const FUNCS = ['int', 'float', 'str', 'bool', 'abs', 'len', 'min', 'max', 'round', 'floor', 'ceil', 'atan2', 'pow', 'log'];
  const call = (name: string, args: Py[]): Py => {
    const one = (): Py => {
      if (args.length !== 1) throw fail(src, `${name}() takes exactly one argument (${args.length} given)`);
      return args[0]!;
    };
    const fn = MATH_FN[name];
    if (fn) {
      const r = fn(toFloat(one(), name));
      if (Number.isNaN(r)) throw fail(src, `math domain error in ${name}()`);
      return floatResult(r);
    }
    switch (name) {
      case 'floor':
      case 'ceil': {
        const v = one();
        if (asInt(v) !== undefined) return asInt(v)!;
        const f = toFloat(v, name);
        if (!Number.isFinite(f)) throw fail(src, `cannot convert float ${pyFloatRepr(f)} to integer`);
        return BigInt(name === 'floor' ? Math.floor(f) : Math.ceil(f));
      }
      case 'atan2':
      case 'pow':
      case 'log': {
        if (name === 'log' && args.length === 1) return floatResult(Math.log(toFloat(args[0]!, name)));
        if (args.length !== 2) throw fail(src, `${name}() takes 2 arguments (${args.length} given)`);
        const [a, b] = [toFloat(args[0]!, name), toFloat(args[1]!, name)];
        return floatResult(name === 'atan2' ? Math.atan2(a, b) : name === 'pow' ? a ** b : Math.log(a) / Math.log(b));
      }
      case 'abs': {
        const v = one();
        const n = asInt(v);
        return n !== undefined ? (n < 0n ? -n : n) : { f: Math.abs(toFloat(v, 'abs()')) };
      }
      case 'int': {
        const v = one();
        if (typeof v === 'string') {
          const t = v.trim().replace(/_/g, '');
          if (!/^[+-]?\d+$/.test(t)) throw fail(src, `invalid literal for int() with base 10: ${strRepr(v)}`);
          return BigInt(t);
        }
        if (asInt(v) !== undefined) return asInt(v)!;
        const f = toFloat(v, 'int()');
        if (!Number.isFinite(f)) throw fail(src, `cannot convert float ${pyFloatRepr(f)} to integer`);
        return BigInt(Math.trunc(f));
      }
      case 'float': {
        const v = one();
        if (typeof v === 'string') {
          const t = v.trim().toLowerCase().replace(/_/g, '');
          const m = /^([+-]?)(inf|infinity|nan)$/.exec(t);
          if (m) return { f: m[2] === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity };
          if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) throw fail(src, `could not convert string to float: ${strRepr(v)}`);
          return { f: Number(t) };
        }
        return { f: toFloat(v, 'float()') };
      }
      case 'str':
        return pyStr(one());
      case 'bool':
        return truthy(one());
      case 'len': {
        const v = one();
        if (typeof v === 'string') return BigInt(v.length);
        if (isList(v)) return BigInt(v.items.length);
        throw fail(src, `object of type '${typeName(v)}' has no len()`);
      }
      case 'min':
      case 'max': {
        const items = args.length === 1 && isList(args[0]!) ? args[0].items : args;
        if (items.length === 0) throw fail(src, `${name}() arg is an empty sequence`);
        return items.reduce((m, x) => (order(x, m, name === 'min' ? '<' : '>') ? x : m));
      }
      case 'round': {
        if (args.length === 0 || args.length > 2) throw fail(src, `round() takes 1 or 2 arguments (${args.length} given)`);
        const v = args[0]!;
        if (asInt(v) !== undefined && args.length === 1) return asInt(v)!;
        const f = toFloat(v, 'round()');
        const half = (x: number): number => {
          const r = Math.round(x);
          return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
        };
        if (args.length === 1) {
          if (!Number.isFinite(f)) throw fail(src, `cannot convert float ${pyFloatRepr(f)} to integer`);
          return BigInt(half(f));
        }
        const nd = asInt(args[1]!);
        if (nd === undefined) throw fail(src, 'round() ndigits must be an int');
        const n = Number(nd);
        if (!Number.isFinite(f) || n > 100) return { f };
        if (n < 0) {
          const s = 10 ** -n;
          return { f: half(f / s) * s };
        }
        // Python rounds the exact binary value (2.675 is 2.67499999...), ties to even: toFixed
        // rounds the exact value too, so only exact ties (…5000…) need the even rule.
        const exact = Math.abs(f).toFixed(Math.min(100, n + 60));
        const cut = exact.indexOf('.') + n + 1;
        if (/^50*$/.test(exact.slice(cut))) {
          const down = exact.slice(0, cut).replace(/\.$/, '');
          const last = Number(down[down.length - 1]);
          const r = last % 2 === 0 ? Number(down) : Number(down) + 10 ** -n;
          return { f: f < 0 ? -Number(r.toFixed(n)) : Number(r.toFixed(n)) };
        }
        return { f: Number(f.toFixed(n)) };
      }
      default:
        throw fail(src, `function '${name}' is not supported`);
    }
  };

  const nameValue = (name: string): Py => {
    const c = MATH_CONST[name];
    if (c !== undefined) return { f: c };
    throw fail(src, `name '${name}' is not defined (only literals, operators, math constants and a few builtins are supported)`);
  };

  // The parser builds thunks, evaluated afterwards: `and`, `or` and `x if c else y` then run only
  // the operand Python would (a division by zero in the branch not taken is no error).
  type Th = () => Py;
  const sequence = (close: string): Th[] => {
    const items: Th[] = [];
    while (!isOp(close)) {
      items.push(expr());
      if (!isOp(',')) break;
      i++;
    }
    expect(close);
    return items;
  };
  const all = (ts: readonly Th[]): Py[] => ts.map((t) => t());

  const atom = (): Th => {
    const t = toks[i++];
    if (!t) throw fail(src, 'unexpected end of expression');
    if (t.t === 'int' || t.t === 'float') {
      const v: Py = t.t === 'int' ? t.v : { f: t.v };
      return () => v;
    }
    if (t.t === 'str') {
      let s = t.v;
      // Adjacent literals concatenate: 'a' 'b'.
      while (toks[i]?.t === 'str') s += String(toks[i++]!.v);
      return () => s;
    }
    if (t.t === 'name') {
      let name = t.v;
      if (name === 'math' && isOp('.')) {
        i++;
        const m = toks[i++];
        if (!m || m.t !== 'name') throw fail(src, "expected a name after 'math.'");
        name = m.v;
        if (!(name in MATH_CONST) && !(name in MATH_FN) && !['floor', 'ceil', 'atan2', 'pow', 'log'].includes(name)) throw fail(src, `'math.${name}' is not supported`);
      } else if (isOp('.')) throw fail(src, `attribute access ('${name}.') is not supported`);
      if (isOp('(')) {
        if (!(name in MATH_FN) && !FUNCS.includes(name)) throw fail(src, `function '${name}' is not supported (supported: ${[...FUNCS, ...Object.keys(MATH_FN)].join(', ')})`);
        i++;
        const args = sequence(')');
        return () => call(name, all(args));
      }
      const v = nameValue(name);
      return () => v;
    }
    if (t.v === 'True' || t.v === 'False' || t.v === 'None') {
      const v = t.v === 'None' ? null : t.v === 'True';
      return () => v;
    }
    if (t.v === '(') {
      if (isOp(')')) {
        i++;
        return () => ({ items: [], tuple: true });
      }
      const first = expr();
      if (isOp(')') || i >= toks.length) {
        expect(')');
        return first;
      }
      expect(',');
      const rest = sequence(')');
      return () => ({ items: all([first, ...rest]), tuple: true });
    }
    if (t.v === '[') {
      const items = sequence(']');
      return () => ({ items: all(items), tuple: false });
    }
    throw fail(src, `unexpected '${String(t.v)}'`);
  };
  const index = (v: Py, k: Py): Py => {
    const n = asInt(k);
    if (n === undefined || !(typeof v === 'string' || isList(v))) throw fail(src, `'${typeName(v)}' indexed by '${typeName(k)}' is not supported`);
    const len = BigInt(typeof v === 'string' ? v.length : v.items.length);
    const idx = n < 0n ? n + len : n;
    if (idx < 0n || idx >= len) throw fail(src, `${typeName(v)} index out of range`);
    return typeof v === 'string' ? v[Number(idx)]! : v.items[Number(idx)]!;
  };
  const STR_METHODS = ['lower', 'upper', 'strip', 'lstrip', 'rstrip', 'startswith', 'endswith', 'replace', 'split', 'join', 'isdigit', 'capitalize'];
  const method = (v: Py, name: string, args: Py[]): Py => {
    if (typeof v !== 'string') throw fail(src, `'${typeName(v)}' object has no attribute '${name}' (only str methods are supported)`);
    const str = (k: number): string => {
      const a = args[k];
      if (typeof a !== 'string') throw fail(src, `${name}() argument ${k + 1} must be str, not ${a === undefined ? 'missing' : typeName(a)}`);
      return a;
    };
    const chars = (): string | undefined => (args.length === 0 || args[0] === null ? undefined : str(0));
    const trim = (t: string, left: boolean, right: boolean): string => {
      const set = chars();
      const isStrip = (c: string): boolean => (set === undefined ? /\s/.test(c) : set.includes(c));
      let a = 0;
      let b = t.length;
      while (left && a < b && isStrip(t[a]!)) a++;
      while (right && b > a && isStrip(t[b - 1]!)) b--;
      return t.slice(a, b);
    };
    switch (name) {
      case 'lower': return v.toLowerCase();
      case 'upper': return v.toUpperCase();
      case 'capitalize': return v.slice(0, 1).toUpperCase() + v.slice(1).toLowerCase();
      case 'strip': return trim(v, true, true);
      case 'lstrip': return trim(v, true, false);
      case 'rstrip': return trim(v, false, true);
      case 'startswith': return v.startsWith(str(0));
      case 'endswith': return v.endsWith(str(0));
      case 'replace': return v.split(str(0)).join(str(1));
      case 'isdigit': return v !== '' && /^\d+$/.test(v);
      case 'split': {
        const sep = chars();
        return { items: sep === undefined ? v.split(/\s+/).filter((x) => x !== '') : v.split(sep), tuple: false };
      }
      default: {
        const seq = args[0];
        if (!seq || !isList(seq) || !seq.items.every((x) => typeof x === 'string')) throw fail(src, 'join() takes a list of strings');
        return seq.items.join(v);
      }
    }
  };
  const postfix = (): Th => {
    let v = atom();
    for (;;) {
      if (isOp('[')) {
        i++;
        const k = expr();
        expect(']');
        const base = v;
        v = () => index(base(), k());
      } else if (isOp('.')) {
        i++;
        const m = toks[i++];
        if (!m || m.t !== 'name' || !STR_METHODS.includes(m.v) || !isOp('(')) throw fail(src, `attribute '${m ? String(m.v) : ''}' is not supported (str methods: ${STR_METHODS.join(', ')})`);
        i++;
        const args = sequence(')');
        const base = v;
        v = () => method(base(), m.v, all(args));
      } else return v;
    }
  };
  const power = (): Th => {
    const a = postfix();
    if (isOp('**')) {
      i++;
      const b = unary();
      return () => arith(a(), b(), '**');
    }
    return a;
  };
  const unary = (): Th => {
    if (isOp('-') || isOp('+')) {
      const neg = String(toks[i++]!.v) === '-';
      const inner = unary();
      return () => {
        const v = inner();
        if (isFloat(v)) return { f: neg ? -v.f : v.f };
        const n = asInt(v);
        if (n === undefined) throw fail(src, `bad operand type for unary ${neg ? '-' : '+'}: '${typeName(v)}'`);
        return neg ? -n : n;
      };
    }
    return power();
  };
  const binary = (next: () => Th, ops: readonly string[]) => (): Th => {
    let a = next();
    while (ops.some((o) => isOp(o))) {
      const op = String(toks[i++]!.v);
      const [l, r] = [a, next()];
      a = () => arith(l(), r(), op);
    }
    return a;
  };
  const term = binary(unary, ['*', '/', '//', '%']);
  const sum = binary(term, ['+', '-']);
  const CMP = ['==', '!=', '<', '<=', '>', '>='];
  const compare = (a: Py, b: Py, op: string): boolean =>
    op === '==' ? eq(a, b) : op === '!=' ? !eq(a, b) : op === 'in' ? contains(b, a) : op === 'not in' ? !contains(b, a)
      : op === 'is' || op === 'is not' ? ((a === null || typeof a === 'boolean') && a === b) === (op === 'is') : order(a, b, op);
  const comparison = (): Th => {
    const first = sum();
    const chain: [string, Th][] = [];
    for (;;) {
      let op: string;
      if (CMP.some((c) => isOp(c))) op = String(toks[i++]!.v);
      else if (isOp('in')) op = (i++, 'in');
      else if (isOp('not') && isOp('in', 1)) op = ((i += 2), 'not in');
      else if (isOp('is')) {
        i++;
        op = isOp('not') ? (i++, 'is not') : 'is';
      } else break;
      chain.push([op, sum()]);
    }
    if (chain.length === 0) return first;
    // a < b < c is a < b and b < c, each operand evaluated once, stopping at the first false.
    return () => {
      let a = first();
      for (const [op, t] of chain) {
        const b = t();
        if (!compare(a, b, op)) return false;
        a = b;
      }
      return true;
    };
  };
  const notExpr = (): Th => {
    if (isOp('not')) {
      i++;
      const inner = notExpr();
      return () => !truthy(inner());
    }
    return comparison();
  };
  const logical = (next: () => Th, op: 'and' | 'or') => (): Th => {
    let a = next();
    while (isOp(op)) {
      i++;
      const [l, r] = [a, next()];
      a = () => {
        const x = l();
        return truthy(x) === (op === 'and') ? r() : x;
      };
    }
    return a;
  };
  const andExpr = logical(notExpr, 'and');
  const orExpr = logical(andExpr, 'or');
  const expr = (): Th => {
    const a = orExpr();
    if (!isOp('if')) return a;
    i++;
    const c = orExpr();
    expect('else');
    const b = expr();
    return () => (truthy(c()) ? a() : b());
  };
  const top = expr();
  if (i !== toks.length) throw fail(src, `unexpected '${String(toks[i]!.v)}'`);
  return pyStr(top());
}
