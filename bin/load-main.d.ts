// Types of load-main.js for the TypeScript that reads it (cli/build.test.ts, bench/bag.bench.ts).
export function distState(): { built: boolean; stale: string | undefined };
export function loadMain(): Promise<(argv: readonly string[]) => Promise<number>>;
