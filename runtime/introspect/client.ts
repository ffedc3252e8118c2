/** The client side of protocol.ts: one connection to a running Kestrel, requests answered by id, streams as callbacks. */
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Request } from './protocol.js';

type Fields<O extends Request['op']> = Omit<Extract<Request, { op: O }>, 'id' | 'op'>;

interface Answer {
  id: number | null;
  ok?: boolean;
  result?: unknown;
  error?: string;
  event?: unknown;
}

export class IntrospectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntrospectionError';
  }
}

export class IntrospectionClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly streams = new Map<number, (event: unknown) => void>();
  private readonly closedWaiters: (() => void)[] = [];
  private gone: Error | undefined;

  private constructor(private readonly sock: Socket, readonly path: string) {
    const lines = createInterface({ input: sock });
    lines.on('line', (line) => this.onLine(line));
    lines.on('error', (e) => this.fail(new IntrospectionError(`connection to ${path} failed: ${e.message}`)));
    sock.on('error', (e) => this.fail(new IntrospectionError(`connection to ${path} failed: ${e.message}`)));
    sock.on('close', () => this.fail(new IntrospectionError(`the Kestrel process closed the connection (${path}): it has exited`)));
  }

  static connect(path: string): Promise<IntrospectionClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        resolve(new IntrospectionClient(sock, path));
      });
      sock.once('error', (e) => reject(new IntrospectionError(`cannot connect to ${path}: ${e.message}`)));
    });
  }

  request<O extends Request['op']>(op: O, fields: Fields<O>): Promise<unknown> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.sock.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  /** Starts a stream (topic.echo, topic.hz); resolves once the process accepted it, then `onEvent` gets each event. */
  async stream<O extends 'topic.echo' | 'topic.hz'>(op: O, fields: Fields<O>, onEvent: (event: unknown) => void): Promise<unknown> {
    const id = this.nextId;
    this.streams.set(id, onEvent);
    try {
      return await this.request(op, fields);
    } catch (e) {
      this.streams.delete(id);
      throw e;
    }
  }

  /** Resolves when the connection ends (the process exited, or close()). */
  closed(): Promise<void> {
    return this.gone ? Promise.resolve() : new Promise((r) => this.closedWaiters.push(r));
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }

  private onLine(line: string): void {
    let a: Answer;
    try {
      a = JSON.parse(line) as Answer;
    } catch {
      this.fail(new IntrospectionError(`bad answer from ${this.path}: ${line.slice(0, 80)}`));
      return;
    }
    if (a.id === null) {
      this.fail(new IntrospectionError(`the process refused a request: ${a.error ?? 'no reason given'}`));
      return;
    }
    if ('event' in a) {
      this.streams.get(a.id)?.(a.event);
      return;
    }
    const w = this.waiting.get(a.id);
    if (!w) return;
    this.waiting.delete(a.id);
    if (a.ok) w.resolve(a.result);
    else w.reject(new IntrospectionError(a.error ?? 'request failed'));
  }

  private fail(e: Error): void {
    if (this.gone) return;
    this.gone = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    for (const r of this.closedWaiters.splice(0)) r();
  }
}
