import { McapIndexedReader, McapWriter, type IWritable } from '@mcap/core';
import { describe, expect, it } from 'vitest';
import { ChunkedMcapWriter, type ChunkedMcapWriterOptions } from './mcap-writer.js';

class Memory implements IWritable {
  private parts: Uint8Array[] = [];
  private n = 0n;
  async write(b: Uint8Array): Promise<void> {
    this.parts.push(b.slice());
    this.n += BigInt(b.byteLength);
  }
  position(): bigint {
    return this.n;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Two schemas' worth of channels, messages whose times go back and forth, chunks of 5 kB. */
async function write(make: (o: ChunkedMcapWriterOptions) => Pick<ChunkedMcapWriter, 'start' | 'registerSchema' | 'registerChannel' | 'addMessage' | 'end'>, compressChunk?: ChunkedMcapWriterOptions['compressChunk']): Promise<Buffer> {
  const m = new Memory();
  const w = make({ writable: m, chunkSize: 5000, startChannelId: 1, compressChunk });
  await w.start({ profile: 'ros2', library: 'kestrel' });
  const s = await w.registerSchema({ name: 'pkg/msg/A', encoding: 'ros2msg', data: new Uint8Array([1, 2, 3]) });
  const a = await w.registerChannel({ topic: '/a', messageEncoding: 'cdr', schemaId: s, metadata: new Map([['offered_qos_profiles', '- {}']]) });
  const b = await w.registerChannel({ topic: '/b', messageEncoding: 'cdr', schemaId: 0, metadata: new Map() });
  for (let i = 0; i < 500; i++) await w.addMessage({ channelId: i % 3 ? a : b, sequence: i, logTime: BigInt(1000 + ((i * 7919) % 300)), publishTime: BigInt(i), data: new Uint8Array(i % 50).fill(i) });
  await w.end();
  return m.bytes();
}

describe('ChunkedMcapWriter', () => {
  it("writes McapWriter's bytes, but for a data section CRC of 0 (not calculated, as rosbag2 writes it); chunk CRCs and the summary CRC as McapWriter computes them", async () => {
    for (const compress of [undefined, (c: Uint8Array) => ({ compression: 'test', compressedData: c.subarray(0, 10) })]) {
      const theirs = await write((o) => new McapWriter(o), compress);
      const ours = await write((o) => new ChunkedMcapWriter(o), compress);
      expect(ours.length).toBe(theirs.length);
      // DataEnd: opcode 0x0f, length 4, the CRC.
      const dataEnd = theirs.indexOf(Buffer.from([0x0f, 4, 0, 0, 0, 0, 0, 0, 0]));
      expect(dataEnd).toBeGreaterThan(0);
      expect(theirs.readUInt32LE(dataEnd + 9)).not.toBe(0);
      expect(ours.readUInt32LE(dataEnd + 9)).toBe(0);
      ours.writeUInt32LE(theirs.readUInt32LE(dataEnd + 9), dataEnd + 9);
      expect(ours.equals(theirs)).toBe(true);
    }
  });

  it("opens with @mcap/core's indexed reader, which checks the summary CRC, and reads back every message", async () => {
    const bytes = await write((o) => new ChunkedMcapWriter(o));
    const r = await McapIndexedReader.Initialize({ readable: { size: async () => BigInt(bytes.length), read: async (off, len) => bytes.subarray(Number(off), Number(off + len)) } });
    expect(r.statistics?.messageCount).toBe(500n);
    let n = 0;
    for await (const m of r.readMessages()) {
      expect(m.data.byteLength).toBe(m.sequence % 50);
      n++;
    }
    expect(n).toBe(500);
  });

  it('refuses a message on a channel never registered, every time, and counts none of them', async () => {
    const m = new Memory();
    const w = new ChunkedMcapWriter({ writable: m, chunkSize: 5000, startChannelId: 1 });
    await w.start({ profile: 'ros2', library: 'kestrel' });
    const message = { channelId: 7, sequence: 0, logTime: 1n, publishTime: 1n, data: new Uint8Array(3) };
    await expect(w.addMessage(message)).rejects.toThrow(/no channel 7 registered/);
    await expect(w.addMessage(message)).rejects.toThrow(/no channel 7 registered/);
    await w.end();
    const bytes = m.bytes();
    const r = await McapIndexedReader.Initialize({ readable: { size: async () => BigInt(bytes.length), read: async (off, len) => bytes.subarray(Number(off), Number(off + len)) } });
    expect(r.statistics?.messageCount).toBe(0n);
  });
});
