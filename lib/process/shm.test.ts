/** SharedRegion: a memfd mapped twice (as the child maps it, here in one process) shows the same bytes. */
import { describe, expect, it } from 'vitest';
import { SharedRegion, sharedMemoryUnavailable } from './shm.js';

const why = sharedMemoryUnavailable();
if (why) console.log(`shm tests skipped: ${why}`);

describe.skipIf(why !== undefined)('SharedRegion', () => {
  it('maps one memfd twice: bytes written on one side are read on the other, and a bad size is refused', () => {
    const a = SharedRegion.create(1 << 16);
    const b = SharedRegion.open(a.ref);
    try {
      expect(b.size).toBe(1 << 16);
      const w = new Uint8Array(a.buffer);
      for (let i = 0; i < w.length; i += 997) w[i] = (i * 7) & 255;
      const r = new Uint8Array(b.buffer);
      for (let i = 0; i < w.length; i += 997) expect(r[i]).toBe((i * 7) & 255);
      w[12345] = 201; // later writes too: one memory, not a copy
      expect(r[12345]).toBe(201);
    } finally {
      b.close();
      a.close();
    }
    expect(() => SharedRegion.create(0)).toThrow(/shared region of 0 bytes/);
    expect(() => SharedRegion.open({ pid: process.pid, fd: 987654, bytes: 16 })).toThrow(/ENOENT/);
  });
});
