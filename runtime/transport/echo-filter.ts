/**
 * ROS 2 delivers a node's own publications to its own subscriptions. When the bridge both
 * publishes and subscribes a topic, its own messages come back; they are recognised by value
 * (the wire makes a copy) against the last few sent on that topic and dropped once.
 *
 * The marker is the sent message's own fields: what comes back must carry the same values in
 * every field the sent message has and the received one has too. rclnodejs builds the received
 * object from the *installed* distro's definition, which may have fields Kestrel's msgs/ lacks
 * (or lack one Kestrel has, e.g. across Humble/Jazzy); comparing key counts would then never
 * recognise an echo. At least one field must be shared, so unrelated shapes never match.
 * Integers compare across number/bigint: an int64 sent as a number comes back as a bigint.
 */
type TypedArray = ArrayBufferView & { readonly length: number; readonly [i: number]: number | bigint };

/** True when `b` (received) carries `a` (sent): see the marker rule above. Not symmetric. */
export function sameMessage(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if ((typeof a === 'bigint' && typeof b === 'number') || (typeof a === 'number' && typeof b === 'bigint')) {
    const [big, num] = typeof a === 'bigint' ? [a, b as number] : [b as bigint, a as number];
    return Number.isInteger(num) && BigInt(num) === big;
  }
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
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  if (ka.length === 0) return Object.keys(b as object).length === 0;
  let shared = 0;
  for (const k of ka) {
    // A field only one definition has says nothing about whether this is our message.
    if (!Object.prototype.hasOwnProperty.call(b, k)) continue;
    shared++;
    if (!sameMessage((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return shared > 0;
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
