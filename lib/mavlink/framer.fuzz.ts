/**
 * Fuzz target for the MAVLink framer (framer.fuzz.test.ts runs it in the suite, bench/fuzz.ts longer): valid frames (MAVLink 1 and 2, signed and not) with
 * garbage between them: random bytes, start bytes, cut frames, cut headers with bogus lengths,
 * corrupted and unknown-id frames; pushed in random chunks. Every valid frame must come out, in
 * order, byte for byte, and nothing else (a lost or invented frame is "silent wrong"), except where
 * garbage forms a frame that passes every check by chance (the CRC is 16 bits: about 1 in 65,536
 * plausible headers): any MAVLink parser takes that frame, and the valid frames it covers, so the
 * case is "noted" and counted apart, after checking independently that the frame is one.
 */
import { common, minimal, MavLinkProtocolV1, MSG_ID_MAGIC_NUMBER, x25crc } from 'node-mavlink';
import type { FuzzTarget, Rng } from '../../test/support/fuzz.js';
import { MavEncoder, MavFramer, REGISTRY } from './wire.js';

const key = Buffer.alloc(32, 3);
// Encoders are stateful (sequence, signature timestamps): new ones per case, so a case replays alone.
let plain = new MavEncoder({ sysid: 1, compid: 1 });
let signed = new MavEncoder({ sysid: 1, compid: 2, signing: { key, linkId: 7 }, now: () => Date.UTC(2026, 0, 1) });
const v1 = new MavLinkProtocolV1(2, 3);

function message(r: Rng): Buffer {
  const k = r.int(0, 4);
  if (k === 0) {
    const m = new minimal.Heartbeat();
    m.customMode = r.int(0, 0xffff);
    m.mavlinkVersion = 3;
    return k === 0 && r.chance(0.2) ? v1.serialize(m, r.int(0, 255)) : plain.encode(m);
  }
  if (k === 1) {
    const m = new common.StatusText();
    m.text = 'x'.repeat(r.int(0, 50));
    return (r.chance(0.3) ? signed : plain).encode(m);
  }
  if (k === 2) {
    const m = new common.GlobalPositionInt();
    m.lat = r.int(-900000000, 900000000);
    m.lon = r.int(-1800000000, 1800000000);
    return (r.chance(0.3) ? signed : plain).encode(m);
  }
  if (k === 3) {
    const m = new common.CommandLong();
    m.command = r.int(0, 600);
    return plain.encode(m);
  }
  const m = new common.Attitude();
  m.roll = r.next();
  return plain.encode(m);
}

/**
 * Frames cut inside their CRC or signature, without the cut part: the framer may return them
 * (the next frame's first bytes can complete the CRC by chance; a signature is not checked here).
 */
let cutSigned: Set<string> = new Set();

function garbage(r: Rng): Buffer {
  switch (r.int(0, 6)) {
    case 0:
      return r.bytes(r.int(1, 40));
    case 1:
      return Buffer.from(Array.from({ length: r.int(1, 8) }, () => r.pick([0xfd, 0xfe, 0x00, 0xff])));
    case 2: {
      const f = message(r);
      const cut = r.int(1, f.length - 1); // cut frame
      const sig = f[0] === 0xfd && (f[2] & 1) === 1 ? 13 : 0;
      if (cut >= f.length - sig - 2) cutSigned.add(f.subarray(0, cut).toString('hex'));
      return f.subarray(0, cut);
    }
    case 3: {
      // Cut header: start byte, a random length and flags, an unknown or known msgid, nothing more.
      const h = Buffer.from([0xfd, r.int(0, 255), r.pick([0, 1]), 0, r.int(0, 255), 1, 1, r.int(0, 255), r.int(0, 255), r.pick([0, r.int(0, 255)])]);
      return h.subarray(0, r.int(2, 10));
    }
    case 4: {
      const f = Buffer.from(message(r));
      // Corrupted where the CRC covers it (header, payload, CRC; a flipped signature byte is the
      // SignatureChecker's to catch, not the framer's).
      const covered = f.length - ((f[0] === 0xfd && (f[2] & 1) === 1) ? 13 : 0);
      f[r.int(1, covered - 1)] ^= 1 << r.int(0, 7);
      return f;
    }
    case 5: {
      const f = Buffer.from(plain.encode(new minimal.Heartbeat()));
      f.writeUIntLE(0xabcd00 + r.int(0, 255), 7, 3); // unknown id
      return f;
    }
    default:
      return Buffer.alloc(0);
  }
}

/** Checked apart from the framer: a known id, a payload that fits its message, the CRC with its CRC_EXTRA. */
function passesChecks(b: Buffer): boolean {
  const v2 = b[0] === 0xfd;
  const id = v2 ? b.readUIntLE(7, 3) : b[5];
  const cls = REGISTRY[id] as unknown as { PAYLOAD_LENGTH: number; FIELDS: { size: number; length: number; extension: boolean }[] } | undefined;
  const magic = (MSG_ID_MAGIC_NUMBER as Record<string, number | undefined>)[id];
  if (!cls || magic === undefined || b[1] > cls.PAYLOAD_LENGTH) return false;
  // MAVLink 1 is never truncated: at least the base fields.
  if (!v2 && b[1] < cls.FIELDS.filter((f) => !f.extension).reduce((n, f) => n + f.size * Math.max(1, f.length), 0)) return false;
  const body = (v2 ? 10 : 6) + b[1];
  return x25crc(b.subarray(0, body + 2), 1, 2, magic) === b.readUInt16LE(body);
}

interface Case {
  cutSigned: Set<string>;
  valid: Buffer[];
  /** Stream offset of each valid frame. */
  validAt: number[];
  stream: Buffer;
  chunks: number[];
}

export const framerTarget: FuzzTarget<Case> = {
  name: 'mavlink-framer',
  gen(r) {
    cutSigned = new Set();
    plain = new MavEncoder({ sysid: 1, compid: 1 });
    signed = new MavEncoder({ sysid: 1, compid: 2, signing: { key, linkId: 7 }, now: () => Date.UTC(2026, 0, 1) });
    const valid: Buffer[] = [];
    const validAt: number[] = [];
    const parts: Buffer[] = [];
    let at = 0;
    const put = (b: Buffer): void => {
      parts.push(b);
      at += b.length;
    };
    const n = r.int(1, 25);
    for (let i = 0; i < n; i++) {
      if (r.chance(0.7)) for (let g = r.int(1, 3); g > 0; g--) put(garbage(r));
      const f = message(r);
      valid.push(f);
      validAt.push(at);
      put(f);
    }
    if (r.chance(0.5)) parts.push(garbage(r));
    const stream = Buffer.concat(parts);
    const chunks: number[] = [];
    for (let from = 0; from < stream.length; ) {
      const c = r.chance(0.1) ? 1 : r.int(1, 120);
      chunks.push(c);
      from += c;
    }
    return { valid, validAt, stream, chunks, cutSigned };
  },
  run(c) {
    const f = new MavFramer();
    const frames: Buffer[] = [];
    let at = 0;
    for (const n of c.chunks) {
      for (const fr of f.push(Buffer.from(c.stream.subarray(at, at + n)))) frames.push(fr.buffer);
      at += n;
    }
    for (const fr of f.flush()) frames.push(fr.buffer);
    const out = frames.map((b) => b.toString('hex'));
    const want = c.valid.map((b) => b.toString('hex'));
    // A signed frame cut inside its signature has an intact body: it may come out (its signature fails later).
    const isCut = (h: string): boolean => [...c.cutSigned].some((p) => h.startsWith(p));
    const kept = out.filter((h) => want.includes(h) || !isCut(h));
    const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((h, i) => h === b[i]);
    if (same(kept, want)) return 'ok';
    const missing = want.filter((h) => !out.includes(h)).length;
    const wrong = { wrong: `${want.length} valid frames in, ${kept.length} out, ${missing} missing` };
    // Extra frames that garbage formed by chance, where they lie in the stream, and the valid frames they cover.
    const chance: { at: number; body: number }[] = [];
    let from = 0;
    for (const b of frames) {
      const h = b.toString('hex');
      const pos = c.stream.indexOf(b, from);
      if (pos < 0) return wrong;
      from = pos + 1;
      if (want.includes(h) || isCut(h)) continue;
      if (!passesChecks(b)) return wrong;
      chance.push({ at: pos, body: (b[0] === 0xfd ? 10 : 6) + b[1] });
    }
    const covered = (i: number): boolean => chance.some((x) => c.validAt[i] > x.at && c.validAt[i] < x.at + x.body);
    const expected = want.filter((_h, i) => !covered(i));
    if (chance.length === 0 || !same(kept.filter((h) => want.includes(h)), expected)) return wrong;
    return { noted: `${chance.length} frame(s) formed by garbage pass the CRC-16 by chance, covering ${want.length - expected.length} valid frame(s)` };
  },
  // The framer never throws: every input is frames, counted drops, or held bytes.
  isClear: () => false,
  caseMs: 3000,
};

