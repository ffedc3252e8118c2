/**
 * `$(eval ...)` for the trivial cases launch files use: Python literals (numbers, quoted strings,
 * True/False/None) combined with arithmetic, comparison and boolean operators. Anything else
 * (names, calls, attribute access, imports) is refused with a clear error: running arbitrary
 * Python is not something an embedded launcher should pretend to do.
 */
import { SubstitutionError } from './substitution-error.js';

type Py = number | string | boolean | null | { float: number };

type Tok = { t: 'num'; v: number; float: boolean } | { t: 'str'; v: string } | { t: 'op'; v: string } | { t: 'kw'; v: string };

const KEYWORDS = new Set(['True', 'False', 'None', 'and', 'or', 'not']);

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), float: /[.eE]/.test(num[0]) });
      i += num[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new SubstitutionError(`$(eval '${src}'): unclosed string literal`);
      out.push({ t: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const op = /^(==|!=|<=|>=|\/\/|\*\*|[-+*/%<>()])/.exec(src.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
      continue;
    }
    const word = /^[A-Za-z_]\w*/.exec(src.slice(i));
    if (word && KEYWORDS.has(word[0])) {
      out.push({ t: 'kw', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw new SubstitutionError(
      `$(eval '${src}'): only literals and + - * / // % ** == != < <= > >= and/or/not are supported, not '${word ? word[0] : c}'`,
    );
  }
  return out;
}

const isFloat = (v: Py): v is { float: number } => typeof v === 'object' && v !== null;
const num = (v: Py, src: string): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isFloat(v)) return v.float;
  throw new SubstitutionError(`$(eval '${src}'): expected a number, got ${pyStr(v)}`);
};
const truthy = (v: Py): boolean => (isFloat(v) ? v.float !== 0 : v === null ? false : typeof v === 'string' ? v !== '' : Boolean(v));

function pyStr(v: Py): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (isFloat(v)) return Number.isInteger(v.float) ? `${v.float}.0` : String(v.float);
  return String(v);
}

/** Evaluates a trivial Python expression and returns `str()` of the result, as launch does. */
export function evalPythonExpr(src: string): string {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const isOp = (v: string): boolean => {
    const t = peek();
    return t !== undefined && (t.t === 'op' || t.t === 'kw') && t.v === v;
  };
  const arith = (a: Py, b: Py, op: string): Py => {
    if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
    const floaty = isFloat(a) || isFloat(b) || op === '/';
    const x = num(a, src);
    const y = num(b, src);
    if ((op === '/' || op === '//' || op === '%') && y === 0) throw new SubstitutionError(`$(eval '${src}'): division by zero`);
    const r = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : op === '//' ? Math.floor(x / y) : op === '%' ? x - y * Math.floor(x / y) : x ** y;
    return floaty ? { float: r } : r;
  };
  const cmp = (a: Py, b: Py, op: string): boolean => {
    const both = (typeof a === 'string') === (typeof b === 'string');
    if (op === '==') return both && (typeof a === 'string' ? a === b : a === null || b === null ? a === b : num(a, src) === num(b, src));
    if (op === '!=') return !cmp(a, b, '==');
    if (typeof a === 'string' && typeof b === 'string') return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    const x = num(a, src);
    const y = num(b, src);
    return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
  };
  const atom = (): Py => {
    const t = toks[i++];
    if (!t) throw new SubstitutionError(`$(eval '${src}'): unexpected end of expression`);
    if (t.t === 'num') return t.float ? { float: t.v } : t.v;
    if (t.t === 'str') return t.v;
    if (t.t === 'kw' && (t.v === 'True' || t.v === 'False')) return t.v === 'True';
    if (t.t === 'kw' && t.v === 'None') return null;
    if (t.t === 'op' && t.v === '(') {
      const v = orExpr();
      if (!isOp(')')) throw new SubstitutionError(`$(eval '${src}'): missing ')'`);
      i++;
      return v;
    }
    throw new SubstitutionError(`$(eval '${src}'): unexpected '${t.v}'`);
  };
  const power = (): Py => {
    const a = atom();
    if (isOp('**')) {
      i++;
      return arith(a, unary(), '**');
    }
    return a;
  };
  const unary = (): Py => {
    if (isOp('-')) {
      i++;
      const v = unary();
      return isFloat(v) ? { float: -v.float } : -num(v, src);
    }
    if (isOp('+')) {
      i++;
      return unary();
    }
    return power();
  };
  const term = (): Py => {
    let a = unary();
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%')) {
      const op = String(toks[i++]!.v);
      a = arith(a, unary(), op);
    }
    return a;
  };
  const sum = (): Py => {
    let a = term();
    while (isOp('+') || isOp('-')) {
      const op = String(toks[i++]!.v);
      a = arith(a, term(), op);
    }
    return a;
  };
  const comparison = (): Py => {
    let a = sum();
    let result: boolean | undefined;
    while (['==', '!=', '<', '<=', '>', '>='].some(isOp)) {
      const op = String(toks[i++]!.v);
      const b = sum();
      const r = cmp(a, b, op);
      result = result === undefined ? r : result && r;
      a = b;
    }
    return result === undefined ? a : result;
  };
  const notExpr = (): Py => {
    if (isOp('not')) {
      i++;
      return !truthy(notExpr());
    }
    return comparison();
  };
  const andExpr = (): Py => {
    let a = notExpr();
    while (isOp('and')) {
      i++;
      const b = notExpr();
      a = truthy(a) ? b : a;
    }
    return a;
  };
  const orExpr = (): Py => {
    let a = andExpr();
    while (isOp('or')) {
      i++;
      const b = andExpr();
      a = truthy(a) ? a : b;
    }
    return a;
  };
  if (toks.length === 0) throw new SubstitutionError('$(eval): empty expression');
  const v = orExpr();
  if (i !== toks.length) throw new SubstitutionError(`$(eval '${src}'): unexpected '${toks[i]!.v}'`);
  return pyStr(v);
}
