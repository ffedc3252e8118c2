/**
 * A Bus whose publishers and subscriptions are mirrored through a Transport. Local delivery
 * is unchanged (synchronous, by reference); the transport sees each local publisher's
 * messages and injects external messages through its own, unbridged publisher, so nothing
 * it injects is sent back out (no echo loop).
 */
import { Observable } from 'rxjs';
import type { MsgTypeMap, MsgTypeName } from '../../msgs/index.js';
import { Bus, type Publisher } from '../bus.js';
import { QOS_DEFAULT, type QoS } from '../qos.js';
import type { Transport } from './transport.js';

export class BridgedBus extends Bus {
  private transport: Transport | undefined;
  private readonly injectors = new Map<string, Publisher<unknown>>();

  /** Attach before nodes are added: topics advertised earlier are not bridged. */
  attach(transport: Transport): void {
    if (this.transport) throw new Error(`bus already has a ${this.transport.kind} transport attached`);
    this.transport = transport;
  }

  get attached(): Transport | undefined {
    return this.transport;
  }

  override advertise<K extends MsgTypeName>(name: string, type: K, qos: QoS = QOS_DEFAULT): Publisher<MsgTypeMap[K]> {
    const t = this.transport;
    if (t) t.checkType(type, name);
    const local = super.advertise(name, type, qos);
    const out = t?.bridgeOut(name, type, qos);
    if (!out) return local;
    return {
      topic: local.topic,
      type: local.type,
      publish(msg: MsgTypeMap[K]): void {
        local.publish(msg);
        out.publish(msg);
      },
      close(): void {
        local.close();
        out.close();
      },
    };
  }

  override subscribe<K extends MsgTypeName>(name: string, type: K, qos: QoS = QOS_DEFAULT): Observable<MsgTypeMap[K]> {
    const t = this.transport;
    if (t) t.checkType(type, name); // at configure time, so a bad type stops startup
    const inner = super.subscribe(name, type, qos);
    if (!t) return inner;
    const injector = (): Publisher<unknown> => {
      let p = this.injectors.get(name);
      if (!p) {
        // Reliable + transient local is compatible with every local request (a later transient-local
        // subscriber must not be refused); only a transient-local request keeps more than the last message.
        const depth = qos.durability === 'transient_local' ? Math.max(1, qos.depth) : 1;
        const offered: QoS = { reliability: 'reliable', durability: 'transient_local', history: 'keep_last', depth };
        p = super.advertise(name, type, offered) as Publisher<unknown>;
        this.injectors.set(name, p);
      }
      return p;
    };
    return new Observable<MsgTypeMap[K]>((sub) => {
      const s = inner.subscribe(sub);
      const pub = injector();
      const release = t.bridgeIn(name, type, qos, (m) => pub.publish(m));
      return () => {
        s.unsubscribe();
        release?.();
      };
    });
  }
}
