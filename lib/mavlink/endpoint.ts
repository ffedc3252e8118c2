/**
 * One MAVLink endpoint: a byte link, the framer, signature policy, decoding and encoding,
 * with counters for everything dropped. Shared by the bridge node and the simulated FC.
 */
import type { Clock } from '../../runtime/clock.js';
import { createLink, type ByteLink, type LinkHandlers, type LinkSpec } from './transport.js';
import { SigningState } from './signing-state.js';
import { decodeFrame, MavEncoder, MavFramer, SignatureChecker, signingStateFile, type MavLinkData, type RawFrame } from './wire.js';

export interface EndpointStats {
  rx: number;
  tx: number;
  /** Messages not sent because the link was down. */
  txDropped: number;
  crcErrors: number;
  /** Candidate frames whose payload length does not fit their message. */
  lengthErrors: number;
  unknownIds: number;
  noiseBytes: number;
  decodeErrors: number;
  unsigned: number;
  badSignature: number;
  replayed: number;
  /** Signed frames opening a new stream more than a minute behind the local timestamp. */
  staleSignature: number;
  /** Failed writes of the signing state file. */
  signingStateErrors: number;
  linkUps: number;
  linkDowns: number;
}

export interface Received {
  msg: MavLinkData;
  frame: RawFrame;
}

export interface EndpointOptions {
  link: LinkSpec;
  /** A link the caller builds instead of the one `link` describes (e.g. the simulator's multi-peer UDP server). */
  byteLink?: (h: LinkHandlers) => ByteLink;
  clock: Clock;
  sysid: number;
  compid: number;
  /**
   * Signs everything sent and, when set, accepts only frames signed with this key. The signing
   * timestamps persist in `stateFile` (default: beside the key file, see wire.ts signingStateFile).
   */
  signing?: { key: Buffer; linkId: number; stateFile?: string };
  reconnectMs?: number;
  onMessage(r: Received): void;
  onLinkUp?(): void;
  onLinkDown?(reason: string): void;
}

export class MavEndpoint {
  private readonly link: ByteLink;
  private readonly framer = new MavFramer();
  private readonly checker: SignatureChecker;
  private readonly encoder: MavEncoder;
  private readonly s = { rx: 0, tx: 0, txDropped: 0, decodeErrors: 0, unsigned: 0, badSignature: 0, replayed: 0, staleSignature: 0, linkUps: 0, linkDowns: 0 };
  private readonly signingState: SigningState;
  lastDecodeError = '';

  constructor(private readonly o: EndpointOptions) {
    const now = (): number => o.clock.now();
    // One local signing timestamp for both directions, as the spec keeps it (and persists it).
    this.signingState = new SigningState({ file: o.signing ? signingStateFile(o.signing) : undefined, now });
    this.checker = new SignatureChecker(o.signing?.key, { state: this.signingState });
    this.encoder = new MavEncoder({ sysid: o.sysid, compid: o.compid, signing: o.signing, now, timestamps: o.signing ? this.signingState : undefined });
    const handlers: LinkHandlers = {
      data: (chunk) => this.onBytes(chunk),
      up: () => {
        this.s.linkUps++;
        this.framer.reset();
        o.onLinkUp?.();
      },
      down: (reason) => {
        this.s.linkDowns++;
        o.onLinkDown?.(reason);
      },
    };
    this.link = o.byteLink ? o.byteLink(handlers) : createLink(o.link, o.clock, handlers, o.reconnectMs ?? 1000);
  }

  get description(): string {
    return this.link.description;
  }

  start(): void {
    this.link.start();
  }

  async stop(): Promise<void> {
    await this.link.stop();
    try {
      this.signingState.save();
    } catch (e) {
      this.signingState.saveErrors++;
      this.signingState.lastError = (e as Error).message;
    }
  }

  isUp(): boolean {
    return this.link.isUp();
  }

  /** Encodes and writes; false (counted) when the link is down. */
  send(msg: MavLinkData): boolean {
    if (!this.link.isUp()) {
      this.s.txDropped++;
      return false;
    }
    const ok = this.link.write(this.encoder.encode(msg));
    if (ok) this.s.tx++;
    else this.s.txDropped++;
    return ok;
  }

  /** Writes bytes as they are (tests: noise, corrupt or foreign frames). */
  writeRaw(bytes: Buffer): boolean {
    return this.link.write(bytes);
  }

  /** Feeds received bytes (the link does this; tests may too). */
  onBytes(chunk: Buffer): void {
    for (const f of this.framer.push(chunk)) {
      const verdict = this.checker.check(f);
      if (verdict === 'unsigned') { this.s.unsigned++; continue; }
      if (verdict === 'bad_signature') { this.s.badSignature++; continue; }
      if (verdict === 'replayed') { this.s.replayed++; continue; }
      if (verdict === 'stale') { this.s.staleSignature++; continue; }
      let msg: MavLinkData;
      try {
        msg = decodeFrame(f);
      } catch (e) {
        this.s.decodeErrors++;
        this.lastDecodeError = (e as Error).message;
        continue;
      }
      this.s.rx++;
      this.o.onMessage({ msg, frame: f });
    }
  }

  stats(): EndpointStats {
    const f = this.framer.stats;
    return { ...this.s, signingStateErrors: this.signingState.saveErrors, crcErrors: f.crcErrors, lengthErrors: f.lengthErrors, unknownIds: f.unknownIds, noiseBytes: f.noiseBytes };
  }
}
