import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../runtime/clock.js';
import { UdpLink } from './transport.js';

const bindBlocker = (): Promise<{ sock: Socket; port: number }> =>
  new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.bind(0, '127.0.0.1', () => resolve({ sock, port: sock.address().port }));
  });

const until = async (cond: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('UDP link', () => {
  it('a failed bind is reported and retried with backoff; the link comes up once the port is free', async () => {
    const blocker = await bindBlocker();
    const downs: string[] = [];
    let ups = 0;
    const link = new UdpLink({ port: blocker.port, host: '127.0.0.1' }, new SystemClock(), { data: () => {}, up: () => ups++, down: (r) => downs.push(r) }, 20);
    link.start();
    await until(() => link.bindFailures >= 3, 2000);
    expect(link.isUp()).toBe(false);
    expect(downs[0]).toMatch(new RegExp(`^udp:127\\.0\\.0\\.1:${blocker.port}: cannot bind \\(.*EADDRINUSE.*\\); attempt 1, retrying in 20 ms$`));
    // Same error again: not reported on every attempt.
    expect(downs.length).toBeLessThan(link.bindFailures);
    await new Promise<void>((r) => blocker.sock.close(() => r()));
    await until(() => link.isUp(), 3000);
    expect(ups).toBe(1);
    expect(link.boundPort()).toBe(blocker.port);
    expect(link.bindFailures).toBe(0);
    await link.stop();
  });

  it('backs off exponentially up to 16 times the first delay', () => {
    expect([1, 2, 3, 4, 5, 6, 12].map((n) => UdpLink.backoffMs(100, n))).toEqual([100, 200, 400, 800, 1600, 1600, 1600]);
  });

  it('stop() during the backoff cancels the retry', async () => {
    const blocker = await bindBlocker();
    const link = new UdpLink({ port: blocker.port, host: '127.0.0.1' }, new SystemClock(), { data: () => {}, up: () => {}, down: () => {} }, 20);
    link.start();
    await until(() => link.bindFailures >= 1, 2000);
    await link.stop();
    const n = link.bindFailures;
    await new Promise<void>((r) => blocker.sock.close(() => r()));
    await new Promise((r) => setTimeout(r, 120));
    expect(link.bindFailures).toBe(n);
    expect(link.isUp()).toBe(false);
  });
});
