import { describe, expect, it } from 'vitest';
import { common, minimal } from 'node-mavlink';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MavLinkPacketSignature, MavLinkProtocolV1, x25crc } from 'node-mavlink';
import { crcX25, decodeFrame, loadSigningKey, MavEncoder, MavFramer, SignatureChecker } from './wire.js';

function heartbeat(customMode = 0): InstanceType<typeof minimal.Heartbeat> {
  const m = new minimal.Heartbeat();
  m.type = minimal.MavType.QUADROTOR;
  m.autopilot = minimal.MavAutopilot.PX4;
  m.baseMode = minimal.MavModeFlag.CUSTOM_MODE_ENABLED;
  m.customMode = customMode;
  m.systemStatus = minimal.MavState.STANDBY;
  m.mavlinkVersion = 3;
  return m;
}

function statustext(text: string): InstanceType<typeof common.StatusText> {
  const m = new common.StatusText();
  m.severity = common.MavSeverity.INFO;
  m.text = text;
  m.id = 0;
  m.chunkSeq = 0;
  return m;
}

/** Deterministic pseudo-random bytes (xorshift), so a failure reproduces. */
function noise(n: number, seed: number): Buffer {
  let x = seed >>> 0 || 1;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

describe('MavFramer', () => {
  const enc = new MavEncoder({ sysid: 1, compid: 1 });

  it('splits frames across arbitrary chunk boundaries and decodes them', () => {
    const bytes = Buffer.concat([enc.encode(heartbeat(7)), enc.encode(statustext('hello')), enc.encode(heartbeat(9))]);
    const f = new MavFramer();
    const frames = [];
    for (let i = 0; i < bytes.length; i += 3) frames.push(...f.push(bytes.subarray(i, i + 3)));
    expect(frames.map((x) => x.msgid)).toEqual([0, 253, 0]);
    expect(frames.map((x) => x.seq)).toEqual([0, 1, 2]);
    const hb = decodeFrame(frames[2]) as InstanceType<typeof minimal.Heartbeat>;
    expect(hb.customMode).toBe(9);
    const st = decodeFrame(frames[1]) as InstanceType<typeof common.StatusText>;
    expect(st.text.replace(/\0+$/, '')).toBe('hello');
    expect(f.stats).toMatchObject({ frames: 3, crcErrors: 0, unknownIds: 0 });
  });

  it('keeps parsing valid frames among garbage, truncated frames, CRC errors and unknown ids', () => {
    const valid = Array.from({ length: 40 }, (_, i) => enc.encode(statustext(`probe-${i}`)));
    const parts: Buffer[] = [];
    let corrupted = 0;
    valid.forEach((v, i) => {
      parts.push(noise(5 + (i % 23), i + 1));
      if (i % 4 === 0) parts.push(enc.encode(heartbeat()).subarray(0, 7)); // truncated
      if (i % 5 === 0) {
        const bad = Buffer.from(enc.encode(heartbeat()));
        bad[12] ^= 0xff; // payload flipped: CRC no longer matches
        parts.push(bad);
        corrupted++;
      }
      if (i % 7 === 0) {
        const unk = Buffer.from(enc.encode(heartbeat()));
        unk.writeUIntLE(0xabcdef, 7, 3); // msgid nobody defines
        parts.push(unk);
      }
      parts.push(v);
    });
    const f = new MavFramer();
    const got: string[] = [];
    const stream = Buffer.concat(parts);
    for (let i = 0; i < stream.length; i += 17) {
      for (const fr of f.push(stream.subarray(i, i + 17))) {
        if (fr.msgid === 253) got.push((decodeFrame(fr) as InstanceType<typeof common.StatusText>).text.replace(/\0+$/, ''));
      }
    }
    expect(got).toEqual(valid.map((_, i) => `probe-${i}`));
    expect(f.stats.crcErrors).toBeGreaterThanOrEqual(corrupted);
    expect(f.stats.unknownIds).toBeGreaterThanOrEqual(1);
    expect(f.unknownSeen.has(0xabcdef)).toBe(true);
    expect(f.stats.noiseBytes).toBeGreaterThan(0);
  });

  it('a cut header with an unknown id whose length ends exactly at a real frame does not eat the frames it spans', () => {
    const hbs = [1, 2, 3].map((k) => enc.encode(heartbeat(k)));
    // 10-byte header claiming 40 payload bytes: 10 + 40 + 2 = 52 = the next two heartbeats (21 + 21) + the header itself.
    const cut = Buffer.from([0xfd, 40, 0, 0, 0, 1, 1, 0xef, 0xcd, 0xab]);
    const f = new MavFramer();
    const frames = f.push(Buffer.concat([cut, hbs[0], hbs[1], hbs[2]]));
    expect(frames.map((x) => (decodeFrame(x) as InstanceType<typeof minimal.Heartbeat>).customMode)).toEqual([1, 2, 3]);
    expect(f.stats.unknownIds).toBe(0);
  });

  it('flush() at the end of a stream releases the frames behind a plausible header that claims more bytes than came', () => {
    const hb = enc.encode(heartbeat(4));
    const f = new MavFramer();
    // A STATUSTEXT header claiming 54 payload bytes (a length that message can have) holds what follows until the stream ends.
    expect(f.push(Buffer.concat([Buffer.from([0xfd, 54, 0, 0, 0, 1, 1, 253, 0, 0]), hb]))).toEqual([]);
    const out = f.flush();
    expect(out.map((x) => x.msgid)).toEqual([0]);
    expect(f.pending()).toBe(0);
  });

  it('rejects a header whose length does not fit its message at once (nothing held), and resyncs inside it', () => {
    const hbs = [1, 2, 3].map((k) => enc.encode(heartbeat(k)));
    const f = new MavFramer();
    // MAVLink 1 SYS_STATUS (31..43 bytes) claiming 253: rejected from the header alone.
    const v1Bogus = Buffer.from([0xfe, 253, 0, 1, 1, 1]);
    // MAVLink 2 HEARTBEAT (at most 9 bytes) claiming 200.
    const v2Bogus = Buffer.from([0xfd, 200, 0, 0, 0, 1, 1, 0, 0, 0]);
    const frames = f.push(Buffer.concat([v1Bogus, hbs[0], v2Bogus, hbs[1], hbs[2]]));
    expect(frames.map((x) => (decodeFrame(x) as InstanceType<typeof minimal.Heartbeat>).customMode)).toEqual([1, 2, 3]);
    expect(f.pending()).toBe(0);
    expect(f.stats.lengthErrors).toBe(2);
    // MAVLink 1 is never truncated: a HEARTBEAT with 8 of its 9 bytes and a matching CRC is still refused.
    const short = Buffer.from([0xfe, 8, 0, 1, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]);
    short.writeUInt16LE(crcX25(short, 1, 14, 50), 14);
    expect(new MavFramer().push(short)).toEqual([]);
  });

  it('counts an unknown-id frame that ends where a valid frame starts, also byte by byte, without holding the stream', () => {
    const unk = Buffer.from(enc.encode(heartbeat(5)));
    unk.writeUIntLE(0xabcdef, 7, 3);
    const stream = Buffer.concat([unk, enc.encode(heartbeat(6))]);
    const f = new MavFramer();
    const got = [];
    for (let i = 0; i < stream.length; i++) got.push(...f.push(stream.subarray(i, i + 1)));
    expect(got.map((x) => x.msgid)).toEqual([0]);
    expect(f.stats.unknownIds).toBe(1);
    expect([...f.unknownSeen]).toEqual([0xabcdef]);
  });

  it('frames a private message id only when configured with its CRC_EXTRA and length', () => {
    const frame = Buffer.from(enc.encode(heartbeat(7)));
    frame.writeUIntLE(0xabcdef, 7, 3);
    frame.writeUInt16LE(crcX25(frame, 1, 10 + frame[1], 99), 10 + frame[1]);
    expect(new MavFramer().push(frame)).toEqual([]);
    const f = new MavFramer({ messages: { [0xabcdef]: { crcExtra: 99, minLength: 9, maxLength: 9 } } });
    expect(f.push(frame).map((x) => x.msgid)).toEqual([0xabcdef]);
    expect(new MavFramer({ messages: { [0xabcdef]: { crcExtra: 98, minLength: 9, maxLength: 9 } } }).push(frame)).toEqual([]);
  });
});

describe('CRC and MAVLink 1', () => {
  it('computes the same X.25 CRC as node-mavlink', () => {
    const buf = noise(300, 99);
    for (const [from, to, extra] of [[1, 40, 50], [0, 300, 0], [7, 8, 255]]) {
      expect(crcX25(buf, from, to, extra)).toBe(x25crc(buf.subarray(0, to), from, 0, extra));
    }
  });

  it('frames and decodes MAVLink 1 packets', () => {
    const v1 = new MavLinkProtocolV1(3, 4);
    const f = new MavFramer();
    const frames = f.push(Buffer.concat([v1.serialize(heartbeat(5), 9), v1.serialize(heartbeat(6), 10)]));
    expect(frames.map((x) => [x.version, x.sysid, x.compid, x.seq])).toEqual([[1, 3, 4, 9], [1, 3, 4, 10]]);
    expect((decodeFrame(frames[1]) as InstanceType<typeof minimal.Heartbeat>).customMode).toBe(6);
  });
});

describe('signing key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-keys-'));
  const file = (name: string, data: string | Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  it('reads hex keys, raw 32-byte keys and passphrases, and names a bad file', () => {
    expect(loadSigningKey(file('hex', `${'0f'.repeat(32)}\n`))).toEqual(Buffer.alloc(32, 0x0f));
    const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 200) & 0xff));
    expect(loadSigningKey(file('raw', raw))).toEqual(raw);
    expect(loadSigningKey(file('pass', 'correct horse\n'))).toEqual(MavLinkPacketSignature.key('correct horse'));
    expect(() => loadSigningKey(file('empty', '\n'))).toThrow(/empty; expected 64 hex characters or a passphrase/);
    expect(() => loadSigningKey(join(dir, 'missing'))).toThrow(/signing key file '.*missing': cannot read/);
  });
});

describe('MAVLink 2 signing', () => {
  const key = Buffer.alloc(32, 7);
  const other = Buffer.alloc(32, 8);
  let t = Date.UTC(2026, 0, 1);
  const now = (): number => t;

  it('accepts frames signed with the key, rejects wrong keys, unsigned frames and replays', () => {
    const signer = new MavEncoder({ sysid: 1, compid: 1, signing: { key, linkId: 2 }, now });
    const wrong = new MavEncoder({ sysid: 1, compid: 1, signing: { key: other, linkId: 2 }, now });
    const plain = new MavEncoder({ sysid: 1, compid: 1 });
    const check = new SignatureChecker(key);
    const f = new MavFramer();
    const a = signer.encode(heartbeat());
    t += 10;
    const b = signer.encode(heartbeat());
    const [fa, fb] = f.push(Buffer.concat([a, b]));
    expect(fa.signed).toBe(true);
    expect(check.check(fa)).toBe('ok');
    expect(check.check(fb)).toBe('ok');
    expect(check.check(fa)).toBe('replayed');
    const [fw] = f.push(wrong.encode(heartbeat()));
    expect(check.check(fw)).toBe('bad_signature');
    const [fp] = f.push(plain.encode(heartbeat()));
    expect(check.check(fp)).toBe('unsigned');
    // Without a key everything passes (nothing to verify against).
    expect(new SignatureChecker(undefined).check(fw)).toBe('ok');
  });

  it('keeps signature timestamps increasing even on a sim clock near zero', () => {
    let simT = 0;
    const enc = new MavEncoder({ sysid: 1, compid: 1, signing: { key, linkId: 0 }, now: () => simT });
    const check = new SignatureChecker(key);
    const f = new MavFramer();
    for (let i = 0; i < 5; i++) {
      const [fr] = f.push(enc.encode(heartbeat()));
      expect(check.check(fr)).toBe('ok');
      simT += 1;
    }
  });
});
