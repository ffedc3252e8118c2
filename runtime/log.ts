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

export const consoleSink: LogSink = (r) => {
  const line = `[${r.level.toUpperCase()}] [${(r.stampMs / 1000).toFixed(3)}] [${r.node}]: ${r.message}`;
  if (r.level === 'error' || r.level === 'warn') process.stderr.write(line + '\n');
  else process.stdout.write(line + '\n');
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
