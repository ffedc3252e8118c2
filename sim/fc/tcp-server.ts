/**
 * A TCP server like ArduPilot SITL's (port 5760): every connected client gets every frame, and
 * frames from any client reach the FC. Each client's byte stream is framed on its own before it
 * is handed on, so two clients writing at once cannot interleave half frames.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { MavFramer } from '../../lib/mavlink/wire.js';
import type { ByteLink, LinkHandlers } from '../../lib/mavlink/transport.js';

export interface TcpServerOptions {
  /** 0 = ephemeral. */
  port: number;
  host?: string;
  /** Most clients at once; more are refused (closed at once) and counted. */
  maxClients?: number;
}

export class TcpServerLink implements ByteLink {
  readonly description: string;
  private server: Server | undefined;
  private up = false;
  private readonly clients = new Map<Socket, MavFramer>();
  refused = 0;

  constructor(private readonly o: TcpServerOptions, private readonly h: LinkHandlers) {
    this.description = `tcp:${o.host ?? '127.0.0.1'}:${o.port}`;
  }

  isUp(): boolean {
    return this.up;
  }

  boundPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  clientCount(): number {
    return this.clients.size;
  }

  start(): void {
    if (this.server) return;
    const server = createServer((sock) => {
      if (this.clients.size >= (this.o.maxClients ?? 8)) {
        this.refused++;
        sock.destroy();
        return;
      }
      const framer = new MavFramer();
      this.clients.set(sock, framer);
      sock.setNoDelay(true);
      sock.on('data', (chunk: Buffer) => {
        for (const f of framer.push(chunk)) this.h.data(Buffer.from(f.buffer));
      });
      const drop = (): void => { this.clients.delete(sock); };
      sock.on('close', drop);
      sock.on('error', drop);
    });
    this.server = server;
    server.on('error', (e) => {
      const wasUp = this.up;
      this.up = false;
      this.h.down(`${this.description}: ${e.message}${wasUp ? '' : ' (listen failed)'}`);
    });
    server.listen(this.o.port, this.o.host ?? '127.0.0.1', () => {
      this.up = true;
      this.h.up();
    });
  }

  write(buf: Buffer): boolean {
    if (!this.up || this.clients.size === 0) return false;
    for (const sock of this.clients.keys()) sock.write(buf);
    return true;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.up = false;
    for (const sock of this.clients.keys()) sock.destroy();
    this.clients.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
