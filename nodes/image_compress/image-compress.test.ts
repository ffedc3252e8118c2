/**
 * image_compressor in a container: frames become JPEGs that decode back to the same picture
 * (through the perception node's own decoder), the rate cap follows frame stamps, and bad
 * frames are counted with a precise error while the node keeps going.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeMsg, type sensor_msgs } from '../../msgs/index.js';
import { Container } from '../../runtime/container.js';
import type { ParamOverride, ParamValue } from '../../runtime/params.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { decodeCompressed } from '../perception/compressed.js';
import { imageCompressorNode, packedPixels } from './index.js';

function params(o: Record<string, ParamValue>): Map<string, ParamOverride> {
  return new Map(Object.entries(o).map(([k, value]) => [k, { value, type: typeof value === 'number' ? (Number.isInteger(value) ? 'int' : 'double') : 'string', source: 'test' } as ParamOverride]));
}

let c: Container | undefined;
afterEach(async () => {
  await c?.shutdownAll();
  c = undefined;
});

async function start(extra: Record<string, ParamValue> = {}) {
  c = new Container({ registry: new Map([['image_compressor', imageCompressorNode]]), logSink: () => undefined });
  await c.add({ package: 'kestrel', executable: 'image_compressor', params: params(extra), remaps: [] });
  await c.activateAll();
  const got: sensor_msgs.CompressedImage[] = [];
  c.bus.subscribe('/camera/image_raw/compressed', 'sensor_msgs/msg/CompressedImage', QOS_SENSOR_DATA).subscribe((m) => got.push(m));
  const pub = c.bus.advertise('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
  return { got, pub, status: () => c!.diagnostics.all()[0] };
}

/** A 64x48 frame: left half red, right half blue (bgr8 swaps the bytes, not the picture). */
function frame(ms: number, encoding: 'rgb8' | 'bgr8' = 'rgb8', pad = 0): sensor_msgs.Image {
  const w = 64;
  const h = 48;
  const step = w * 3 + pad;
  const data = new Uint8Array(step * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const rgb = x < w / 2 ? [220, 30, 30] : [30, 30, 220];
      const px = encoding === 'bgr8' ? [rgb[2], rgb[1], rgb[0]] : rgb;
      data.set(px, y * step + x * 3);
    }
  return makeMsg('sensor_msgs/msg/Image', { header: { stamp: { sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1e6 }, frame_id: 'cam' }, width: w, height: h, encoding, step, data });
}

describe('image_compressor node', () => {
  it('publishes JPEGs that decode to the same picture, with the frame header (rgb8, bgr8, padded rows)', async () => {
    const { got, pub } = await start({ rate_hz: 0 });
    pub.publish(frame(1000));
    await vi.waitFor(() => expect(got).toHaveLength(1));
    pub.publish(frame(2000, 'bgr8', 4));
    await vi.waitFor(() => expect(got).toHaveLength(2));
    for (const m of got) {
      expect(m.format).toMatch(/jpeg/);
      expect(m.data.length).toBeLessThan(64 * 48 * 3 / 4);
      const v = await decodeCompressed(m);
      expect([v.width, v.height, v.channels]).toEqual([64, 48, 3]);
      const at = (x: number, y: number) => Array.from(v.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
      for (const [ch, want] of at(10, 20).entries()) expect(Math.abs(ch === 0 ? want - 220 : want - 30)).toBeLessThan(12);
      for (const [ch, want] of at(50, 20).entries()) expect(Math.abs(ch === 2 ? want - 220 : want - 30)).toBeLessThan(12);
    }
    expect(got.map((m) => m.header.stamp.sec)).toEqual([1, 2]);
  });

  it('caps the rate by frame stamps', async () => {
    const { got, pub, status } = await start({ rate_hz: 2 });
    // 10 Hz frames over 1 s: 0, 500 ms kept at 2 Hz.
    for (let i = 0; i < 10; i++) {
      pub.publish(frame(10_000 + i * 100));
      await vi.waitFor(() => expect(status().values.published ?? '0').toBe(String(Math.floor(i / 5) + 1)));
    }
    expect(got.map((m) => m.header.stamp.nanosec / 1e6)).toEqual([0, 500]);
  });

  it('counts a bad frame with a precise error and keeps compressing', async () => {
    const { got, pub, status } = await start({ rate_hz: 0 });
    pub.publish({ ...frame(1000), encoding: '16UC1' });
    pub.publish({ ...frame(1100), step: 10 });
    await vi.waitFor(() => expect(status().values).toMatchObject({ 'errors.image_encoding': '1', 'errors.image_step': '1' }));
    expect(status().message).toMatch(/step 10 is smaller than width x channels/);
    pub.publish(frame(1200));
    await vi.waitFor(() => expect(got).toHaveLength(1));
  });

  it('packs gray and 4-channel views without the alpha', () => {
    const rgba = packedPixels({ width: 2, height: 1, step: 8, channels: 4, order: 'bgra', data: Uint8Array.from([1, 2, 3, 255, 4, 5, 6, 255]) });
    expect(Array.from(rgba.data)).toEqual([3, 2, 1, 6, 5, 4]);
    expect(packedPixels({ width: 2, height: 2, step: 3, channels: 1, order: 'gray', data: Uint8Array.from([1, 2, 0, 3, 4, 0]) }).data).toEqual(Uint8Array.from([1, 2, 3, 4]));
  });
});
