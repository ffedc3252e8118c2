/**
 * COMMAND_LONG with the MAVLink command protocol: one command in flight per command id
 * (COMMAND_ACK names only the id), resent with an incremented `confirmation` after each
 * timeout up to a bound, IN_PROGRESS acks extend the wait, and a command whose validity
 * has passed is never resent. Timers run on the node's clock.
 */
import { common } from 'node-mavlink';
import { timer, type Subscription } from 'rxjs';
import type { Clock } from '../../runtime/clock.js';

const { MavResult } = common;

export type CommandResultName =
  | 'accepted' | 'temporarily_rejected' | 'denied' | 'unsupported' | 'failed' | 'cancelled'
  | 'timeout' | 'expired' | 'superseded' | 'link_down';

export interface CommandOutcome {
  ok: boolean;
  result: CommandResultName;
  attempts: number;
  /** Time from first send to the final answer, ms on the node clock. */
  elapsedMs: number;
}

export interface CommandRequest {
  command: number;
  /** param1..param7; missing ones are 0 (NaN must be given explicitly where it means "default"). */
  params: readonly number[];
  label: string;
  /** Do not resend after this time (ms on the node clock); a function when the horizon can be extended. */
  validUntilMs?: number | (() => number);
  /** Send as COMMAND_INT in this frame: params[4] and params[5] are then lat/lon in degE7 (integers). */
  frame?: number;
}

export interface CommandClientOptions {
  clock: Clock;
  send(msg: InstanceType<typeof common.CommandLong> | InstanceType<typeof common.CommandInt>): boolean;
  targetSystem: number;
  targetComponent: number;
  timeoutMs: number;
  retries: number;
}

interface Pending {
  req: CommandRequest;
  attempts: number;
  started: number;
  timer: Subscription | undefined;
  resolve(o: CommandOutcome): void;
}

const RESULT_NAMES: Record<number, CommandResultName> = {
  [MavResult.ACCEPTED]: 'accepted',
  [MavResult.TEMPORARILY_REJECTED]: 'temporarily_rejected',
  [MavResult.DENIED]: 'denied',
  [MavResult.UNSUPPORTED]: 'unsupported',
  [MavResult.FAILED]: 'failed',
  [MavResult.CANCELLED]: 'cancelled',
};

export class CommandClient {
  private readonly pending = new Map<number, Pending>();
  /** Acks that matched nothing in flight (late, duplicate, or for another client). */
  unmatchedAcks = 0;
  resends = 0;

  constructor(private readonly o: CommandClientOptions) {}

  run(req: CommandRequest): Promise<CommandOutcome> {
    const prev = this.pending.get(req.command);
    if (prev) this.finish(req.command, prev, 'superseded');
    return new Promise<CommandOutcome>((resolve) => {
      const p: Pending = { req, attempts: 0, started: this.o.clock.now(), timer: undefined, resolve };
      this.pending.set(req.command, p);
      this.attempt(p);
    });
  }

  private build(p: Pending): InstanceType<typeof common.CommandLong> | InstanceType<typeof common.CommandInt> {
    const v = (i: number): number => p.req.params[i] ?? 0;
    if (p.req.frame !== undefined) {
      // COMMAND_INT has no confirmation field: a resend is the same message again.
      const m = new common.CommandInt();
      m.targetSystem = this.o.targetSystem;
      m.targetComponent = this.o.targetComponent;
      m.command = p.req.command;
      m.frame = p.req.frame;
      m.current = 0;
      m.autocontinue = 0;
      m._param1 = v(0);
      m._param2 = v(1);
      m._param3 = v(2);
      m._param4 = v(3);
      m._param5 = Math.round(v(4));
      m._param6 = Math.round(v(5));
      m._param7 = v(6);
      return m;
    }
    const m = new common.CommandLong();
    m.targetSystem = this.o.targetSystem;
    m.targetComponent = this.o.targetComponent;
    m.command = p.req.command;
    m.confirmation = Math.min(255, p.attempts);
    m._param1 = v(0);
    m._param2 = v(1);
    m._param3 = v(2);
    m._param4 = v(3);
    m._param5 = v(4);
    m._param6 = v(5);
    m._param7 = v(6);
    return m;
  }

  private attempt(p: Pending): void {
    const m = this.build(p);
    p.attempts++;
    if (p.attempts > 1) this.resends++;
    if (!this.o.send(m)) {
      this.finish(p.req.command, p, 'link_down');
      return;
    }
    this.arm(p);
  }

  private arm(p: Pending): void {
    p.timer?.unsubscribe();
    p.timer = timer(this.o.timeoutMs, this.o.clock.scheduler).subscribe(() => {
      if (this.pending.get(p.req.command) !== p) return;
      const vu = p.req.validUntilMs;
      if (vu !== undefined && this.o.clock.now() > (typeof vu === 'function' ? vu() : vu)) {
        this.finish(p.req.command, p, 'expired');
      } else if (p.attempts > this.o.retries) {
        this.finish(p.req.command, p, 'timeout');
      } else {
        this.attempt(p);
      }
    });
  }

  private finish(cmd: number, p: Pending, result: CommandResultName): void {
    p.timer?.unsubscribe();
    if (this.pending.get(cmd) === p) this.pending.delete(cmd);
    p.resolve({ ok: result === 'accepted', result, attempts: p.attempts, elapsedMs: this.o.clock.now() - p.started });
  }

  /** Feeds a COMMAND_ACK already checked to come from the target system; true if it matched. */
  onAck(ack: InstanceType<typeof common.CommandAck>): boolean {
    const p = this.pending.get(ack.command);
    if (!p) {
      this.unmatchedAcks++;
      return false;
    }
    if (ack.result === MavResult.IN_PROGRESS) {
      this.arm(p); // still working: wait again, without resending
      return true;
    }
    this.finish(ack.command, p, RESULT_NAMES[ack.result] ?? 'failed');
    return true;
  }

  /** Ends everything in flight (link lost, node deactivated). */
  cancelAll(result: CommandResultName = 'link_down'): void {
    for (const [cmd, p] of [...this.pending]) this.finish(cmd, p, result);
  }

  inFlight(): number {
    return this.pending.size;
  }
}
