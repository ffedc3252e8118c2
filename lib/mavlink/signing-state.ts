/**
 * MAVLink 2 signing timestamps as the spec keeps them (mavlink.io/en/guide/message_signing.html):
 * one local timestamp (48-bit, 10 µs units since 2015-01-01) that is the max of the clock, of
 * every correctly signed timestamp seen and of the value stored at the last run; the last
 * timestamp of every (sysid, compid, link) stream; both persisted in a small state file beside
 * the key, so a capture replayed after a restart is still a replay.
 *
 * The file is written at most every `persistEveryMs` (and on close), atomically (temporary file,
 * fsync, rename). Frames accepted after the last write and before a crash are not in it, so on
 * load every stored value is raised by that interval: a replay of them is still rejected, and a
 * peer restarting within the interval sees its first frames rejected for at most that long.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const SIGNATURE_EPOCH_MS = Date.UTC(2015, 0, 1);
/** A new stream may start at most this far behind the local timestamp (one minute, in 10 µs units). */
export const NEW_STREAM_WINDOW = 6_000_000;
const MAX_TS = 2 ** 48 - 1;

export interface SigningStateOptions {
  /** State file; undefined keeps the state in memory only. */
  file?: string;
  /** Wall-clock ms (the runtime clock); without it only stored and observed timestamps count. */
  now?: () => number;
  persistEveryMs?: number;
}

interface StateFile {
  version: 1;
  timestamp: number;
  streams: Record<string, number>;
}

/** The state file beside a key file. */
export function signingStateFileFor(keyFile: string): string {
  return `${keyFile}.timestamp.json`;
}

export function streamKey(sysid: number, compid: number, linkId: number): string {
  return `${sysid}:${compid}:${linkId}`;
}

const isTs = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TS;

export class SigningState {
  private stored = 0;
  private seen = 0;
  private issued = 0;
  private readonly streams = new Map<string, number>();
  private lastSaveMs = Number.NEGATIVE_INFINITY;
  private dirty = 0;
  private readonly persistEveryMs: number;

  constructor(private readonly o: SigningStateOptions = {}) {
    this.persistEveryMs = o.persistEveryMs ?? 1000;
    if (o.file) this.load(o.file);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`signing state file '${file}': cannot read (${(e as Error).message})`, { cause: e });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new Error(`signing state file '${file}': not JSON (${(e as Error).message}); delete it only if no replayed capture can reach this link`, { cause: e });
    }
    const d = data as Partial<StateFile>;
    if (typeof d !== 'object' || d === null || d.version !== 1 || !isTs(d.timestamp) || typeof d.streams !== 'object' || d.streams === null) {
      throw new Error(`signing state file '${file}': expected {"version": 1, "timestamp": <48-bit integer>, "streams": {...}}`);
    }
    const bump = Math.round(this.persistEveryMs * 100);
    this.stored = Math.min(MAX_TS, d.timestamp + bump);
    for (const [k, v] of Object.entries(d.streams)) {
      if (!/^\d+:\d+:\d+$/.test(k) || !isTs(v)) throw new Error(`signing state file '${file}': bad stream entry '${k}': ${JSON.stringify(v)}`);
      this.streams.set(k, Math.min(MAX_TS, v + bump));
    }
  }

  /** The clock as a signing timestamp (0 before 2015, e.g. a sim clock). */
  private clockTs(): number {
    const ms = this.o.now ? this.o.now() : 0;
    return Math.min(MAX_TS, Math.max(0, Math.floor((ms - SIGNATURE_EPOCH_MS) * 100)));
  }

  /** The local timestamp: max of the clock, the stored value and every signed timestamp seen or sent. */
  local(): number {
    return Math.max(this.clockTs(), this.stored, this.seen, this.issued);
  }

  /** Last accepted timestamp of a stream (undefined: a new stream). */
  last(stream: string): number | undefined {
    return this.streams.get(stream);
  }

  /** Records a correctly signed, accepted frame's timestamp. */
  accept(stream: string, ts: number): void {
    this.streams.set(stream, ts);
    if (ts > this.seen) this.seen = ts;
    this.dirty++;
    this.maybeSave();
  }

  /** Timestamp for an outgoing frame: the local timestamp, strictly increasing. */
  next(): number {
    this.issued = Math.min(MAX_TS, Math.max(this.issued + 1, this.local()));
    this.dirty++;
    this.maybeSave();
    return this.issued;
  }

  private maybeSave(): void {
    if (!this.o.file) return;
    const now = this.o.now ? this.o.now() : Number.NaN;
    // Without a clock, save every 50 updates instead.
    if ((Number.isFinite(now) && now - this.lastSaveMs >= this.persistEveryMs) || (!Number.isFinite(now) && this.dirty >= 50)) {
      this.lastSaveMs = Number.isFinite(now) ? now : this.lastSaveMs;
      // On the receive path a full disk must not stop the link: counted, reported, retried next interval.
      try {
        this.save();
      } catch (e) {
        this.saveErrors++;
        this.lastError = (e as Error).message;
      }
    }
  }

  /** Failed periodic writes (the last one's message in lastError). */
  saveErrors = 0;
  lastError = '';

  /** Writes the state file atomically (no-op in memory). */
  save(): void {
    const file = this.o.file;
    if (!file) return;
    const data: StateFile = { version: 1, timestamp: this.local(), streams: Object.fromEntries(this.streams) };
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(data)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      // The rename itself must reach the disk too.
      const dfd = openSync(dirname(file), 'r');
      try {
        fsyncSync(dfd);
      } catch {
        // Some filesystems refuse fsync on a directory; the rename is still atomic.
      } finally {
        closeSync(dfd);
      }
    } catch (e) {
      throw new Error(`signing state file '${file}': cannot write (${(e as Error).message})`, { cause: e });
    }
    this.dirty = 0;
  }
}
