/** The `kestrel` subcommand contract: a command exists only when it works. */
export interface Command {
  name: string;
  /** One line for `kestrel --help`. */
  summary: string;
  /** Full usage text for `kestrel <name> --help`. */
  usage: string;
  /** Returns the exit code: 0 ok, 1 error, 2 usage. */
  run(argv: string[]): Promise<number>;
}

/**
 * A command as `kestrel --help` lists it. Its module (and everything it imports: ONNX Runtime, llama.cpp,
 * the bag libraries) is loaded only when it runs, so `kestrel --help` starts in a fraction of a second.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** A loaded command as an entry (tests pass their own commands to `main`). */
export function entryOf(c: Command): CommandEntry {
  return { name: c.name, summary: c.summary, load: () => Promise.resolve(c) };
}

/** Wrong command-line usage: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Output sinks, swappable so tests can run commands in-process and read what they print. */
export const io = {
  out: (s: string): void => {
    process.stdout.write(s);
  },
  err: (s: string): void => {
    process.stderr.write(s);
  },
};

export function println(s = ''): void {
  io.out(`${s}\n`);
}

/** Runs a command with its output captured (tests run commands in-process this way). */
export async function captureOutput(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const saved = { ...io };
  let out = '';
  let err = '';
  io.out = (s) => void (out += s);
  io.err = (s) => void (err += s);
  try {
    const code = await run();
    return { code, out, err };
  } finally {
    Object.assign(io, saved);
  }
}
