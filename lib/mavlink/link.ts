/**
 * What every byte link to a flight controller is (serial, UDP, in-memory) and what it calls back, in a file of its
 * own so the links (transport.ts, memory-link.ts) depend on it and not on each other.
 */
export type LinkSpec =
  | { kind: 'serial'; path: string; baudRate: number }
  | { kind: 'udp'; port: number; host?: string; remoteHost?: string; remotePort?: number }
  /** In-process wire (sim FC and bridge in one process, e.g. under sim time). */
  | { kind: 'memory'; name: string };

export interface LinkHandlers {
  data(chunk: Buffer): void;
  up(): void;
  down(reason: string): void;
}

export interface ByteLink {
  readonly description: string;
  isUp(): boolean;
  /** Queues bytes for the wire; false (and nothing sent) while the link is down. */
  write(buf: Buffer): boolean;
  start(): void;
  stop(): Promise<void>;
}
