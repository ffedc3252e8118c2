/**
 * UDP the way PX4 SITL does it: the FC binds one local port, speaks first (unsolicited) to
 * the configured peers (a ground station on 14550, an offboard API such as MAVSDK on 14540),
 * and also serves whoever else sends to it, so a ground station beside the bridge keeps its
 * heartbeats. Every frame goes to every peer; peers learned from traffic are forgotten after
 * `peerTimeoutMs` of silence (on the FC clock).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Clock } from '../../runtime/clock.js';
import type { ByteLink, LinkHandlers } from '../../lib/mavlink/transport.js';

export interface UdpPeer {
  host: string;
  port: number;
}

export interface UdpPeersOptions {
  /** Local port (0 = ephemeral). */
  port: number;
  host?: string;
  /** Peers spoken to from the start, whether or not they ever answer. */
  targets: UdpPeer[];
  peerTimeoutMs?: number;
  /** Most learned peers kept at once (the oldest is dropped). */
  maxPeers?: number;
}

export class UdpPeersLink implements ByteLink {
  readonly description: string;
  private sock: Socket | undefined;
  private up = false;
  private readonly learned = new Map<string, UdpPeer & { lastMs: number }>();
  /** Datagrams from peers beyond maxPeers (counted, still delivered). */
  peersDropped = 0;

  constructor(private readonly o: UdpPeersOptions, private readonly clock: Clock, private readonly h: LinkHandlers) {
    this.description = `udp:${o.host ?? '0.0.0.0'}:${o.port}${o.targets.length ? ` → ${o.targets.map((t) => `${t.host}:${t.port}`).join(', ')}` : ''}`;
  }

  isUp(): boolean {
    return this.up;
  }

  /** Local port actually bound (with port 0, the ephemeral one). */
  boundPort(): number | undefined {
    return this.sock?.address().port;
  }

  /** Everyone a frame goes to now: the targets, then the learned peers still alive. */
  peers(): UdpPeer[] {
    const now = this.clock.now();
    const timeout = this.o.peerTimeoutMs ?? 10_000;
    const out = new Map<string, UdpPeer>();
    for (const t of this.o.targets) out.set(`${t.host}:${t.port}`, t);
    for (const [k, p] of this.learned) {
      if (now - p.lastMs > timeout) this.learned.delete(k);
      else out.set(k, p);
    }
    return [...out.values()];
  }

  start(): void {
    if (this.sock) return;
    const sock = createSocket('udp4');
    this.sock = sock;
    sock.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      const known = this.learned.get(key);
      if (known) known.lastMs = this.clock.now();
      else {
        if (this.learned.size >= (this.o.maxPeers ?? 8)) {
          const oldest = [...this.learned.entries()].sort((a, b) => a[1].lastMs - b[1].lastMs)[0];
          this.learned.delete(oldest[0]);
          this.peersDropped++;
        }
        this.learned.set(key, { host: rinfo.address, port: rinfo.port, lastMs: this.clock.now() });
      }
      this.h.data(msg);
    });
    sock.on('error', (e) => {
      const wasUp = this.up;
      this.up = false;
      this.h.down(`${this.description}: ${e.message}${wasUp ? '' : ' (bind failed)'}`);
    });
    sock.bind(this.o.port, this.o.host ?? '0.0.0.0', () => {
      this.up = true;
      this.h.up();
    });
  }

  write(buf: Buffer): boolean {
    const sock = this.sock;
    if (!this.up || !sock) return false;
    const peers = this.peers();
    for (const p of peers) sock.send(buf, p.port, p.host);
    return peers.length > 0;
  }

  async stop(): Promise<void> {
    const s = this.sock;
    this.sock = undefined;
    this.up = false;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
