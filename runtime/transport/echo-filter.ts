/**
 * ROS 2 delivers a node's own publications to its own subscriptions. When the bridge both
 * publishes and subscribes a topic, its own messages come back; they are recognised by value
 * (the wire makes a copy) against the last few sent on that topic and dropped once.
 */
type TypedArray = ArrayBufferView & { readonly length: number; readonly [i: number]: number | bigint };

export function sameMessage(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    // NaN equals NaN here: a float field that is NaN on both sides is the same message.
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  const aView = ArrayBuffer.isView(a);
  const bView = ArrayBuffer.isView(b);
  if (aView || bView || Array.isArray(a) || Array.isArray(b)) {
    // A typed array and a plain array of the same numbers are the same field value.
    const x = a as TypedArray | unknown[];
    const y = b as TypedArray | unknown[];
    if (!('length' in x) || !('length' in y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameMessage(x[i], y[i])) return false;
    return true;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!sameMessage((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export class EchoFilter {
  private readonly sent: unknown[] = [];
  dropped = 0;

  constructor(private readonly window = 32) {}

  noteSent(msg: unknown): void {
    this.sent.push(msg);
    if (this.sent.length > this.window) this.sent.shift();
  }

  /** True when `msg` is one of ours coming back; it (and anything older, lost on the way) is forgotten. */
  isEcho(msg: unknown): boolean {
    const i = this.sent.findIndex((m) => sameMessage(m, msg));
    if (i < 0) return false;
    this.sent.splice(0, i + 1);
    this.dropped++;
    return true;
  }
}
