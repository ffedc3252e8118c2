/** A throwaway redis-server on a free loopback port, for the fleet queue test and bench (BullMQ needs a real Redis). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

/** Why the queue cannot run here (undefined: it can). */
export function redisSkipReason(): string | undefined {
  if (spawnSync('redis-server', ['--version']).error) return 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';
  try {
    createRequire(import.meta.url).resolve('ioredis');
  } catch {
    return "the npm package 'ioredis' (BullMQ's Redis driver) is not installed";
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Starts redis-server without persistence (in its own process group, for the caller to kill) and waits up to `waitTries` × 100 ms for PONG. */
export async function startRedis(waitTries: number): Promise<{ url: string; port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore', detached: true });
  for (let i = 0; i < waitTries && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
  return { url: `redis://127.0.0.1:${port}`, port, proc };
}
