/**
 * A transport carries a process's bus topics to the outside world. The bus stays the
 * in-process hub (zero copy between nodes of one process); a transport attached to it
 * (see BridgedBus) mirrors local publishers out and feeds external publishers in.
 */
import type { MsgTypeName } from '../../msgs/index.js';
import type { QoS } from '../qos.js';

export type TransportKind = 'inproc' | 'ros2' | 'dds';

/** Where a local publisher's messages go besides the bus. */
export interface OutBridge {
  publish(msg: unknown): void;
  close(): void;
}

export interface Transport {
  readonly kind: TransportKind;
  /** Throws a clear error when the type cannot be carried (e.g. unknown to the ROS 2 install). */
  checkType(type: MsgTypeName, topic: string): void;
  /** A local publisher appeared on `topic`. */
  bridgeOut(topic: string, type: MsgTypeName, qos: QoS): OutBridge | undefined;
  /** A local subscription appeared: call `deliver` with each external message. Returns its release. */
  bridgeIn(topic: string, type: MsgTypeName, qos: QoS, deliver: (msg: unknown) => void): (() => void) | undefined;
  close(): Promise<void>;
}

/** The embedded default: every node of the launch shares one bus, nothing leaves the process. */
export class InprocTransport implements Transport {
  readonly kind = 'inproc' as const;
  checkType(): void {}
  bridgeOut(): undefined {
    return undefined;
  }
  bridgeIn(): undefined {
    return undefined;
  }
  async close(): Promise<void> {}
}
