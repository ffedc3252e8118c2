import { describe, expect, it } from 'vitest';
import { parseOptions } from './args.js';
import { UsageError } from './command.js';

const SPEC = {
  out: { type: 'string', short: 'o' },
  file: { type: 'string', multiple: true, valueName: 'file' },
  topics: { type: 'string', list: true },
  loop: { type: 'boolean' },
} as const;

describe('parseOptions (node:util parseArgs)', () => {
  it('values, short and inline forms, repeated and ros2-style list options, positionals', () => {
    const r = parseOptions(['bag', '-o', 'x', '--file', 'a', '--file=b', '--topics', '/a', '/b', '--loop', '--topics', '/c', '--', '--not-an-option'], SPEC);
    expect(r.values).toEqual({ out: 'x', file: ['a', 'b'], topics: ['/a', '/b', '/c'], loop: true });
    expect(r.positionals).toEqual(['bag', '--not-an-option']);
    expect(parseOptions(['--out', '-1'], SPEC).values.out).toBe('-1');
  });

  it('wrong usage is a UsageError naming the option', () => {
    const err = (argv: string[]): string => {
      try {
        parseOptions(argv, SPEC);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('expected a UsageError');
    };
    expect(err(['--bogus'])).toBe("unknown option '--bogus'");
    expect(err(['-x'])).toBe("unknown option '-x'");
    expect(err(['--loop=yes'])).toBe("unknown option '--loop=yes'");
    expect(err(['--out'])).toBe('--out needs a value');
    expect(err(['--file'])).toBe('--file needs a file');
    expect(err(['--topics'])).toBe('--topics needs at least one value');
    expect(err(['--topics', '--loop'])).toBe('--topics needs at least one value');
  });
});
