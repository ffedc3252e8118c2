/** Minimal leveled logger in the rclcpp format: [LEVEL] [stamp] [node]: message. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  level: LogLevel;
  node: string;
  stampMs: number;
  message: string;
}

export type LogSink = (r: LogRecord) => void;

/** rcutils' default line format; RCUTILS_CONSOLE_OUTPUT_FORMAT replaces it, as in ROS 2. */
export const DEFAULT_LOG_FORMAT = '[{severity}] [{time}] [{name}]: {message}';

/** rcutils' colours per severity (the whole line, as rcutils does). */
const COLOR: Record<LogLevel, string> = { debug: '\x1b[32m', info: '', warn: '\x1b[33m', error: '\x1b[31m' };

/**
 * One log line: `{severity} {time} {time_as_nanoseconds} {name} {message}` substituted into
 * the format (`{function_name} {file_name} {line_number}` are empty: no call sites in JS).
 */
export function formatLogRecord(r: LogRecord, o: { format?: string; color?: boolean } = {}): string {
  const f = o.format ?? DEFAULT_LOG_FORMAT;
  const vals: Record<string, string> = {
    severity: r.level.toUpperCase(),
    time: (r.stampMs / 1000).toFixed(3),
    time_as_nanoseconds: String(BigInt(Math.round(r.stampMs * 1000)) * 1000n),
    name: r.node.replace(/^\//, '').replace(/\//g, '.'),
    message: r.message,
    function_name: '',
    file_name: '',
    line_number: '0',
  };
  const line = f.replace(/\{(\w+)\}/g, (m, k: string) => vals[k] ?? m);
  const c = o.color ? COLOR[r.level] : '';
  return c ? `${c}${line}\x1b[0m` : line;
}

/** RCUTILS_COLORIZED_OUTPUT: 1 always, 0 never, unset: when the stream is a terminal. */
export function colorFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.RCUTILS_COLORIZED_OUTPUT;
  if (v === '1') return true;
  if (v === '0') return false;
  return stream.isTTY === true && !env.NO_COLOR;
}

export const consoleSink: LogSink = (r) => {
  const stream = r.level === 'error' || r.level === 'warn' ? process.stderr : process.stdout;
  stream.write(formatLogRecord(r, { format: process.env.RCUTILS_CONSOLE_OUTPUT_FORMAT || undefined, color: colorFor(stream) }) + '\n');
};

export class Logger {
  constructor(
    readonly node: string,
    private readonly now: () => number,
    private readonly sink: LogSink = consoleSink,
    private readonly min: LogLevel = (process.env.KESTREL_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  ) {}

  private emit(level: LogLevel, message: string): void {
    if (ORDER[level] < ORDER[this.min]) return;
    this.sink({ level, node: this.node, stampMs: this.now(), message });
  }
  debug(m: string): void { this.emit('debug', m); }
  info(m: string): void { this.emit('info', m); }
  warn(m: string): void { this.emit('warn', m); }
  error(m: string): void { this.emit('error', m); }

  child(node: string): Logger {
    return new Logger(node, this.now, this.sink, this.min);
  }
}
