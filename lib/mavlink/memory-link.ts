/**
 * An in-process byte link: two endpoints that open the same wire name exchange bytes, one
 * clock callback later. The same MAVLink framing, signing and command code runs as over a
 * pty, but on the node's clock, so a replay under sim time (`kestrel eval`) is deterministic.
 */
import type { Subscription } from 'rxjs';
import type { Clock } from '../../runtime/clock.js';
import type { ByteLink, LinkHandlers } from './link.js';

interface Wire {
  ends: Set<MemoryLink>;
}

const wires = new Map<string, Wire>();

export class MemoryLink implements ByteLink {
  readonly description: string;
  private up = false;
  private pending: Subscription[] = [];

  constructor(
    private readonly name: string,
    private readonly clock: Clock,
    private readonly h: LinkHandlers,
  ) {
    this.description = `memory:${name}`;
  }

  isUp(): boolean {
    return this.up;
  }

  private wire(): Wire {
    let w = wires.get(this.name);
    if (!w) {
      w = { ends: new Set() };
      wires.set(this.name, w);
    }
    return w;
  }

  start(): void {
    if (this.up) return;
    const w = this.wire();
    if (w.ends.size >= 2) throw new Error(`memory link '${this.name}' already has two ends`);
    w.ends.add(this);
    this.up = true;
    this.h.up();
  }

  write(buf: Buffer): boolean {
    if (!this.up) return false;
    const copy = Buffer.from(buf);
    for (const end of this.wire().ends) {
      if (end === this) continue;
      const s = this.clock.scheduler.schedule(() => {
        this.pending = this.pending.filter((x) => x !== s);
        if (end.up) end.h.data(copy);
      }, 0);
      this.pending.push(s);
    }
    return true;
  }

  async stop(): Promise<void> {
    if (!this.up) return;
    this.up = false;
    for (const s of this.pending) s.unsubscribe();
    this.pending = [];
    const w = this.wire();
    w.ends.delete(this);
    if (w.ends.size === 0) wires.delete(this.name);
    this.h.down('stopped');
  }
}
