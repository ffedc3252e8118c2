import { Observable, Subject, type Subscriber } from 'rxjs';
import type { MsgTypeMap, MsgTypeName } from '../msgs/index.js';
import { QOS_DEFAULT, qosIncompatibility, type QoS } from './qos.js';

export class TopicTypeError extends Error {
  constructor(readonly topic: string, readonly existing: string, readonly requested: string) {
    super(`topic '${topic}' carries '${existing}', not '${requested}'`);
    this.name = 'TopicTypeError';
  }
}

export class QosIncompatibleError extends Error {
  constructor(readonly topic: string, reason: string) {
    super(`incompatible QoS on '${topic}': ${reason}`);
    this.name = 'QosIncompatibleError';
  }
}

export class TopicNameError extends Error {
  constructor(readonly topic: string, reason: string) {
    super(`invalid topic name '${topic}': ${reason}`);
    this.name = 'TopicNameError';
  }
}

/** One message as seen by bus-wide observers (the recorder, transports, `kestrel topics`). */
export interface BusEvent {
  topic: string;
  type: MsgTypeName;
  msg: unknown;
}

export interface TopicInfo {
  name: string;
  type: MsgTypeName;
  publishers: number;
  subscribers: number;
  published: number;
}

export interface Publisher<T> {
  readonly topic: string;
  readonly type: MsgTypeName;
  publish(msg: T): void;
  /** Stops advertising; further publish() calls are an error. */
  close(): void;
}

interface Topic {
  name: string;
  type: MsgTypeName;
  subject: Subject<unknown>;
  offered: QoS[];
  requested: QoS[];
  published: number;
  /** Last `depth` messages kept for transient_local late joiners. */
  latched: unknown[];
  latchedDepth: number;
}

const NAME_RE = /^\/([A-Za-z_~{][\w{}]*)?(\/[A-Za-z_][\w]*)*$/;

/**
 * The in-process topic bus: one RxJS Subject per topic, messages passed by reference
 * (zero copy, like intra-process communication in a ROS 2 component container).
 * Delivery is synchronous; a subscriber that does slow work decides its own policy
 * with an operator (`latestOnly`, `runWithDeadline`), so a slow node cannot block a publisher.
 */
export class Bus {
  private readonly topicsByName = new Map<string, Topic>();
  private readonly allEvents = new Subject<BusEvent>();
  private tapCount = 0;

  private topic(name: string, type: MsgTypeName): Topic {
    if (!NAME_RE.test(name)) throw new TopicNameError(name, 'must be absolute (start with /) and contain only [A-Za-z0-9_/]');
    let t = this.topicsByName.get(name);
    if (!t) {
      t = { name, type, subject: new Subject(), offered: [], requested: [], published: 0, latched: [], latchedDepth: 0 };
      this.topicsByName.set(name, t);
    } else if (t.type !== type) {
      throw new TopicTypeError(name, t.type, type);
    }
    return t;
  }

  advertise<K extends MsgTypeName>(name: string, type: K, qos: QoS = QOS_DEFAULT): Publisher<MsgTypeMap[K]> {
    const t = this.topic(name, type);
    for (const r of t.requested) {
      const why = qosIncompatibility(qos, r);
      if (why) throw new QosIncompatibleError(name, why);
    }
    t.offered.push(qos);
    if (qos.durability === 'transient_local') t.latchedDepth = Math.max(t.latchedDepth, qos.depth);
    let open = true;
    return {
      topic: name,
      type,
      publish: (msg: MsgTypeMap[K]): void => {
        if (!open) throw new Error(`publish on closed publisher of '${name}'`);
        t.published++;
        if (t.latchedDepth > 0) {
          t.latched.push(msg);
          if (t.latched.length > t.latchedDepth) t.latched.shift();
        }
        t.subject.next(msg);
        if (this.tapCount > 0) this.allEvents.next({ topic: name, type, msg });
      },
      close(): void {
        if (!open) return;
        open = false;
        t.offered.splice(t.offered.indexOf(qos), 1);
      },
    };
  }

  /** Hot stream of a topic's messages. Subscribing never replays, except transient_local history. */
  subscribe<K extends MsgTypeName>(name: string, type: K, qos: QoS = QOS_DEFAULT): Observable<MsgTypeMap[K]> {
    const t = this.topic(name, type);
    for (const o of t.offered) {
      const why = qosIncompatibility(o, qos);
      if (why) throw new QosIncompatibleError(name, why);
    }
    return new Observable<MsgTypeMap[K]>((sub) => {
      t.requested.push(qos);
      if (qos.durability === 'transient_local') {
        for (const m of t.latched.slice(-qos.depth)) sub.next(m as MsgTypeMap[K]);
      }
      // The subscriber itself observes the topic's Subject: one hop per delivery, not two
      // (the Subject's removal is added to `sub`, so unsubscribing `sub` detaches it).
      t.subject.subscribe(sub as Subscriber<unknown>);
      return () => {
        t.requested.splice(t.requested.indexOf(qos), 1);
      };
    });
  }

  /**
   * Every message on every topic, for recorders and transports. Costs nothing while unobserved.
   * With `replayLatched`, first the kept history of every transient_local topic, as a
   * transient_local subscriber (e.g. `ros2 bag record`) would receive it.
   */
  events(o: { replayLatched?: boolean } = {}): Observable<BusEvent> {
    return new Observable<BusEvent>((sub) => {
      if (o.replayLatched) {
        for (const t of this.topicsByName.values()) for (const msg of t.latched) sub.next({ topic: t.name, type: t.type, msg });
      }
      this.tapCount++;
      const inner = this.allEvents.subscribe(sub);
      return () => {
        inner.unsubscribe();
        this.tapCount--;
      };
    });
  }

  /** QoS of the topic's current publishers (what a recorder stores as offered_qos_profiles). */
  offeredQos(name: string): readonly QoS[] {
    return this.topicsByName.get(name)?.offered ?? [];
  }

  typeOf(name: string): MsgTypeName | undefined {
    return this.topicsByName.get(name)?.type;
  }

  topics(): TopicInfo[] {
    return [...this.topicsByName.values()]
      .map((t) => ({ name: t.name, type: t.type, publishers: t.offered.length, subscribers: t.requested.length, published: t.published }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
