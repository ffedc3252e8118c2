/**
 * Against bytes pymavlink wrote (../shared/fixtures/peers/pymavlink): the framer yields all 32
 * frames of the noisy stream however it is chunked, and the three signed frames (key bytes 0..31,
 * link 7, timestamps from 1,000,000) verify under the spec's timestamp rules, across a restart.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MavLinkPacketSignature, minimal } from 'node-mavlink';
import { rng } from '../../test/support/fuzz.js';
import { SIGNATURE_EPOCH_MS, SigningState, signingStateFileFor } from './signing-state.js';
import { loadSigningKey, MavEncoder, MavFramer, SignatureChecker, signingStateFile, type RawFrame } from './wire.js';

const DIR = join(import.meta.dirname, '../../../shared/fixtures/peers/pymavlink');
const have = existsSync(join(DIR, 'mavlink-vectors.json')) && existsSync(join(DIR, 'mavlink-stream-with-noise.bin'));
if (!have) console.warn(`skipping pymavlink peer tests: ${DIR} is absent`);

interface Vector {
  name: string;
  msgid: number;
  hex: string;
  srcSystem: number;
  srcComponent: number;
  note: string;
}
const vectors = (): { signing_key_hex: string; frames: Vector[] } => JSON.parse(readFileSync(join(DIR, 'mavlink-vectors.json'), 'utf8'));

const hexOf = (fs: RawFrame[]): string[] => fs.map((f) => f.buffer.toString('hex'));

describe.skipIf(!have)('pymavlink peer bytes', () => {
  it('the framer yields all 32 frames of the noisy stream, byte for byte, whole, byte by byte and in random chunks', () => {
    const v = vectors();
    const want = v.frames.map((f) => f.hex);
    expect(want).toHaveLength(32);
    const stream = readFileSync(join(DIR, 'mavlink-stream-with-noise.bin'));
    const whole = new MavFramer();
    const all = [...whole.push(stream), ...whole.flush()];
    expect(hexOf(all)).toEqual(want);
    expect(all.map((f) => [f.msgid, f.sysid, f.compid])).toEqual(v.frames.map((f) => [f.msgid, f.srcSystem, f.srcComponent]));
    expect(all.filter((f) => f.version === 1).length).toBe(2);

    const bytewise = new MavFramer();
    const one: RawFrame[] = [];
    for (let i = 0; i < stream.length; i++) one.push(...bytewise.push(stream.subarray(i, i + 1)));
    one.push(...bytewise.flush());
    expect(hexOf(one)).toEqual(want);

    const r = rng(32);
    for (let trial = 0; trial < 20; trial++) {
      const f = new MavFramer();
      const got: RawFrame[] = [];
      for (let i = 0; i < stream.length; ) {
        const n = r.int(1, 64);
        // Copies: the framer may keep views into what it was given.
        got.push(...f.push(Buffer.from(stream.subarray(i, i + n))));
        i += n;
      }
      got.push(...f.flush());
      expect(hexOf(got)).toEqual(want);
    }
  });

  describe('signed frames (key bytes 0..31, link 7)', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_v, i) => i));
    const signedFrames = (): RawFrame[] => {
      const v = vectors();
      expect(v.signing_key_hex).toBe(key.toString('hex'));
      const hex = v.frames.filter((f) => /signed/.test(f.note)).map((f) => f.hex);
      expect(hex).toHaveLength(3);
      return hex.map((h) => new MavFramer().push(Buffer.from(h, 'hex'))[0]);
    };
    // The local clock just after the frames were signed (timestamp 1,000,000 = 10 s after 2015-01-01).
    const signingTime = SIGNATURE_EPOCH_MS + 10_000 + 500;

    it('verify with the key; the wrong key, a flipped byte and a replay are rejected', () => {
      const frames = signedFrames();
      for (const f of frames) {
        const sig = new MavLinkPacketSignature(f.buffer);
        expect(sig.linkId).toBe(7);
        expect(sig.timestamp).toBeGreaterThanOrEqual(1_000_000);
      }
      const check = new SignatureChecker(key, { now: () => signingTime });
      expect(frames.map((f) => check.check(f))).toEqual(['ok', 'ok', 'ok']);
      expect(check.check(frames[0])).toBe('replayed');
      expect(new SignatureChecker(Buffer.alloc(32, 1), { now: () => signingTime }).check(frames[0])).toBe('bad_signature');
      const flipped = Buffer.from(frames[1].buffer);
      flipped[12] ^= 0x01;
      expect(new SignatureChecker(key, { now: () => signingTime }).check({ ...frames[1], buffer: flipped })).toBe('bad_signature');
    });

    it('a new stream more than a minute behind local time is rejected as stale (a capture replayed today)', () => {
      const frames = signedFrames();
      const today = new SignatureChecker(key, { now: () => Date.UTC(2026, 11, 1) });
      expect(frames.map((f) => today.check(f))).toEqual(['stale', 'stale', 'stale']);
      const minuteLater = new SignatureChecker(key, { now: () => signingTime + 59_000 });
      expect(minuteLater.check(frames[0])).toBe('ok');
      const tooLate = new SignatureChecker(key, { now: () => signingTime + 61_000 });
      expect(tooLate.check(frames[0])).toBe('stale');
    });

    it('the timestamp state persists beside the key: a replay after a restart is rejected', () => {
      const frames = signedFrames();
      const dir = mkdtempSync(join(tmpdir(), 'kestrel-signing-'));
      const keyFile = join(dir, 'link.key');
      writeFileSync(keyFile, `${key.toString('hex')}\n`);
      const loaded = loadSigningKey(keyFile);
      const stateFile = signingStateFile({ key: loaded, linkId: 1 });
      expect(stateFile).toBe(signingStateFileFor(keyFile));

      const first = new SigningState({ file: stateFile, now: () => signingTime });
      const a = new SignatureChecker(loaded, { state: first });
      expect(frames.map((f) => a.check(f))).toEqual(['ok', 'ok', 'ok']);
      first.save();
      const saved = JSON.parse(readFileSync(stateFile as string, 'utf8')) as { version: number; timestamp: number; streams: Record<string, number> };
      expect(saved.version).toBe(1);
      expect(Object.keys(saved.streams)).toHaveLength(1);

      // Restart at the same wall time (the capture is seconds old, within the new-stream minute).
      const second = new SigningState({ file: stateFile, now: () => signingTime + 2000 });
      const b = new SignatureChecker(loaded, { state: second });
      expect(frames.map((f) => b.check(f))).toEqual(['replayed', 'replayed', 'replayed']);
      // Our own outgoing timestamps resume above what was stored.
      const enc = new MavEncoder({ sysid: 1, compid: 1, signing: { key: loaded, linkId: 1 }, timestamps: second });
      const out = new MavFramer().push(enc.encode(new minimal.Heartbeat()))[0];
      expect(new MavLinkPacketSignature(out.buffer).timestamp).toBeGreaterThan(saved.timestamp);

      // Without the state file, the same restart would have accepted the replay: the file is what closes it.
      expect(new SignatureChecker(loaded, { now: () => signingTime + 2000 }).check(frames[0])).toBe('ok');
    });

    it('a damaged state file is a precise error naming it, never a silent reset', () => {
      const dir = mkdtempSync(join(tmpdir(), 'kestrel-signing-'));
      const file = join(dir, 'k.timestamp.json');
      writeFileSync(file, '{"version": 1, "timestamp": ');
      expect(() => new SigningState({ file })).toThrow(/signing state file '.*k\.timestamp\.json': not JSON/);
      writeFileSync(file, '{"version": 1, "timestamp": -4, "streams": {}}');
      expect(() => new SigningState({ file })).toThrow(/expected \{"version": 1, "timestamp"/);
      writeFileSync(file, '{"version": 1, "timestamp": 5, "streams": {"1:1": 3}}');
      expect(() => new SigningState({ file })).toThrow(/bad stream entry '1:1'/);
    });
  });
});
