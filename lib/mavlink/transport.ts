/**
 * Byte links to a flight controller: a serial port (USB/UART, or a pty in tests) that is
 * reopened after a disconnect, or a UDP endpoint (SITL, 14550-style) whose bind is retried
 * with backoff. Both run their retry
 * timers on the given clock so a node never reads the wall clock itself.
 */
import { createSocket, type Socket } from 'node:dgram';
import { timer, type Subscription } from 'rxjs';
import { SerialPort } from 'serialport';
import type { Clock } from '../../runtime/clock.js';
import type { ByteLink, LinkHandlers, LinkSpec } from './link.js';
import { MemoryLink } from './memory-link.js';

export type { ByteLink, LinkHandlers, LinkSpec } from './link.js';

export function describeLink(spec: LinkSpec): string {
  if (spec.kind === 'memory') return `memory:${spec.name}`;
  return spec.kind === 'serial' ? `serial:${spec.path}@${spec.baudRate}` : `udp:${spec.host ?? '0.0.0.0'}:${spec.port}`;
}

export function createLink(spec: LinkSpec, clock: Clock, h: LinkHandlers, reconnectMs = 1000): ByteLink {
  if (spec.kind === 'memory') return new MemoryLink(spec.name, clock, h);
  return spec.kind === 'serial' ? new SerialLink(spec, clock, h, reconnectMs) : new UdpLink(spec, clock, h, reconnectMs);
}

class SerialLink implements ByteLink {
  readonly description: string;
  private port: SerialPort | undefined;
  private up = false;
  private stopped = true;
  private retry: Subscription | undefined;
  private lastError = '';

  constructor(
    private readonly spec: { path: string; baudRate: number },
    private readonly clock: Clock,
    private readonly h: LinkHandlers,
    private readonly reconnectMs: number,
  ) {
    this.description = `serial:${spec.path}@${spec.baudRate}`;
  }

  isUp(): boolean {
    return this.up;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tryOpen();
  }

  private tryOpen(): void {
    if (this.stopped) return;
    const port = new SerialPort({ path: this.spec.path, baudRate: this.spec.baudRate, autoOpen: false });
    this.port = port;
    port.on('data', (chunk: Buffer) => this.h.data(chunk));
    // A read/write error on an open port is followed by 'close'; one before open is the open failing.
    port.on('error', (e: Error) => {
      this.lastError = e.message;
    });
    port.on('close', () => {
      if (this.port !== port) return;
      this.port = undefined;
      const wasUp = this.up;
      this.up = false;
      if (wasUp) this.h.down(`${this.description} closed${this.lastError ? `: ${this.lastError}` : ''}`);
      this.scheduleRetry();
    });
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.port = undefined;
        port.removeAllListeners();
        if (err.message !== this.lastError) this.h.down(`${this.description}: cannot open (${err.message}); retrying every ${this.reconnectMs} ms`);
        this.lastError = err.message;
        this.scheduleRetry();
        return;
      }
      this.lastError = '';
      this.up = true;
      this.h.up();
    });
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.retry?.unsubscribe();
    this.retry = timer(this.reconnectMs, this.clock.scheduler).subscribe(() => this.tryOpen());
  }

  write(buf: Buffer): boolean {
    if (!this.up || !this.port) return false;
    this.port.write(buf);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retry?.unsubscribe();
    const port = this.port;
    this.port = undefined;
    this.up = false;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    port?.removeAllListeners();
  }
}

/** Longest wait between two bind attempts, as a multiple of the first. */
const UDP_BACKOFF_MAX_FACTOR = 16;

/**
 * A UDP endpoint. A failed bind (port taken, address not yet configured at boot) is retried
 * with exponential backoff (reconnectMs, doubling, at most 16×) and reported through `down`
 * with the error, the attempt and the next delay (once per distinct error, then every 10th
 * attempt, so a long outage does not flood the log).
 */
export class UdpLink implements ByteLink {
  readonly description: string;
  private sock: Socket | undefined;
  private up = false;
  private stopped = true;
  private retry: Subscription | undefined;
  private remote: { host: string; port: number } | undefined;
  /** Failed binds since the last successful one. */
  bindFailures = 0;
  lastBindError = '';

  constructor(
    private readonly spec: { port: number; host?: string; remoteHost?: string; remotePort?: number },
    private readonly clock: Clock,
    private readonly h: LinkHandlers,
    private readonly reconnectMs = 1000,
  ) {
    this.description = `udp:${spec.host ?? '0.0.0.0'}:${spec.port}`;
    if (spec.remotePort) this.remote = { host: spec.remoteHost ?? '127.0.0.1', port: spec.remotePort };
  }

  isUp(): boolean {
    return this.up;
  }

  /** Local port actually bound (useful with port 0). */
  boundPort(): number | undefined {
    return this.up ? this.sock?.address().port : undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tryBind();
  }

  /** Delay before the next attempt after `failures` failed binds. */
  static backoffMs(reconnectMs: number, failures: number): number {
    return reconnectMs * Math.min(UDP_BACKOFF_MAX_FACTOR, 2 ** Math.max(0, failures - 1));
  }

  private tryBind(): void {
    if (this.stopped) return;
    const sock = createSocket('udp4');
    this.sock = sock;
    let bound = false;
    sock.on('message', (msg, rinfo) => {
      // Without a fixed remote, answer whoever spoke last (how a GCS/SITL 14550 link pairs up).
      if (!this.spec.remotePort) this.remote = { host: rinfo.address, port: rinfo.port };
      this.h.data(msg);
    });
    sock.on('error', (e) => {
      if (this.sock !== sock) return;
      if (!bound) {
        this.onBindError(sock, e);
        return;
      }
      this.up = false;
      this.h.down(`${this.description}: ${e.message}`);
    });
    sock.bind(this.spec.port, this.spec.host ?? '0.0.0.0', () => {
      if (this.sock !== sock) return;
      bound = true;
      this.bindFailures = 0;
      this.lastBindError = '';
      this.up = true;
      this.h.up();
    });
  }

  private onBindError(sock: Socket, e: Error): void {
    this.sock = undefined;
    sock.removeAllListeners();
    try {
      sock.close();
    } catch {
      // Not bound, nothing to close.
    }
    this.bindFailures++;
    const delay = UdpLink.backoffMs(this.reconnectMs, this.bindFailures);
    if (e.message !== this.lastBindError || this.bindFailures % 10 === 0) {
      this.h.down(`${this.description}: cannot bind (${e.message}); attempt ${this.bindFailures}, retrying in ${delay} ms`);
    }
    this.lastBindError = e.message;
    if (this.stopped) return;
    this.retry?.unsubscribe();
    this.retry = timer(delay, this.clock.scheduler).subscribe(() => this.tryBind());
  }

  write(buf: Buffer): boolean {
    if (!this.up || !this.sock || !this.remote) return false;
    this.sock.send(buf, this.remote.port, this.remote.host);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retry?.unsubscribe();
    const s = this.sock;
    this.sock = undefined;
    this.up = false;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
