/**
 * `kestrel <command> [args]`: dispatches to cli/commands. Errors print one line to stderr and exit 1;
 * usage errors exit 2.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { io, UsageError, type CommandEntry } from './command.js';
import { COMMANDS } from './commands/index.js';

function help(commands: readonly CommandEntry[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: kestrel <command> [args]',
    '',
    'Kestrel: edge inference node for robots and drones (ROS 2 launch/params compatible).',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    "Run 'kestrel <command> --help' for a command's options.",
    '',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], commands: readonly CommandEntry[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(help(commands));
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.out(target ? `${(await target.load()).usage.trimEnd()}\n` : help(commands));
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.err(`kestrel: unknown command '${name}' (commands: ${commands.map((c) => c.name).join(', ')}; see kestrel --help)\n`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${cmd.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`kestrel ${cmd.name}: ${e.message}\n${cmd.usage.trimEnd()}\n`);
      return 2;
    }
    const err = e as Error;
    // One line: the message already says what, where and what was expected.
    io.err(`kestrel ${cmd.name}: ${err.message.split('\n')[0]}\n`);
    if (process.env.KESTREL_DEBUG) io.err(`${err.stack ?? ''}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`kestrel: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
