import { describe, expect, it } from 'vitest';
import { colorFor, formatLogRecord } from './log.js';

const rec = { level: 'warn' as const, node: '/ns/planner', stampMs: 1500.25, message: 'late' };

describe('log line format (rcutils)', () => {
  it('defaults to the rclcpp format, logger name with dots', () => {
    expect(formatLogRecord(rec)).toBe('[WARN] [1.500] [ns.planner]: late');
  });
  it('honours RCUTILS_CONSOLE_OUTPUT_FORMAT tokens, unknown tokens left as written', () => {
    expect(formatLogRecord(rec, { format: '{severity} {time} {name} {message} {nope}' })).toBe('WARN 1.500 ns.planner late {nope}');
    expect(formatLogRecord(rec, { format: '{time_as_nanoseconds}' })).toBe('1500250000');
  });
  it('colours the whole line by severity when asked', () => {
    expect(formatLogRecord(rec, { color: true })).toBe('\x1b[33m[WARN] [1.500] [ns.planner]: late\x1b[0m');
    expect(formatLogRecord({ ...rec, level: 'info' }, { color: true })).toBe('[INFO] [1.500] [ns.planner]: late');
  });
  it('RCUTILS_COLORIZED_OUTPUT forces colour on or off; unset follows the terminal', () => {
    expect(colorFor({ isTTY: false }, { RCUTILS_COLORIZED_OUTPUT: '1' })).toBe(true);
    expect(colorFor({ isTTY: true }, { RCUTILS_COLORIZED_OUTPUT: '0' })).toBe(false);
    expect(colorFor({ isTTY: true }, {})).toBe(true);
    expect(colorFor({ isTTY: false }, {})).toBe(false);
  });
});
