/**
 * The perception node in a container with a real ONNX Runtime session (the tiny YOLOv8-shaped
 * model: output = 2 × input, so a white frame gives one known box): plumbing, latest-only
 * drops, compressed input, and bad input that is counted while the node keeps running.
 */
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeMsg, type sensor_msgs, type vision_msgs } from '../../msgs/index.js';
import { Container } from '../../runtime/container.js';
import type { ParamOverride, ParamValue } from '../../runtime/params.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { perception } from './index.js';

const TINY = fileURLToPath(new URL('../../models/detector/tiny/tiny-yolov8.onnx', import.meta.url));

function params(o: Record<string, ParamValue>): Map<string, ParamOverride> {
  return new Map(Object.entries(o).map(([k, value]) => [k, { value, type: Array.isArray(value) ? 'string[]' : typeof value === 'number' ? (Number.isInteger(value) ? 'int' : 'double') : typeof value === 'boolean' ? 'bool' : 'string', source: 'test' } as ParamOverride]));
}

let c: Container | undefined;
afterEach(async () => {
  await c?.shutdownAll();
  c = undefined;
});

async function start(extra: Record<string, ParamValue> = {}) {
  c = new Container({ registry: new Map([['perception', perception]]), logSink: () => undefined });
  await c.add({ package: 'kestrel', executable: 'perception', params: params({ model_path: TINY, ...extra }), remaps: [] });
  await c.activateAll();
  const got: vision_msgs.Detection2DArray[] = [];
  c.bus.subscribe('/detections', 'vision_msgs/msg/Detection2DArray').subscribe((m) => got.push(m));
  return { c, got, status: () => c!.diagnostics.all()[0] };
}

const white = (sec: number, encoding = 'rgb8', ch = 3) =>
  makeMsg('sensor_msgs/msg/Image', { header: { stamp: { sec, nanosec: 5 }, frame_id: 'cam' }, width: 32, height: 32, encoding, step: 32 * ch, data: new Uint8Array(32 * 32 * ch).fill(255) });

describe('perception node', () => {
  it('turns rgb8, bgr8 and mono8 frames into detections carrying the source stamp', async () => {
    const { c, got } = await start();
    const pub = c.bus.advertise('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
    const frames = [white(1), white(2, 'bgr8'), white(3, 'mono8', 1)];
    for (const f of frames) {
      const before = got.length;
      pub.publish(f);
      await vi.waitFor(() => expect(got.length).toBe(before + 1));
    }
    for (const [i, m] of got.entries()) {
      expect(m.header.stamp).toEqual({ sec: i + 1, nanosec: 5 });
      expect(m.header.frame_id).toBe('cam');
      // Output = 2 × (255/255): box centre 2, size 2, every class scores 2 → one 'person' after NMS.
      expect(m.detections).toHaveLength(1);
      expect(m.detections[0].results[0].hypothesis.class_id).toBe('person');
      expect(m.detections[0].bbox).toMatchObject({ center: { position: { x: 2, y: 2 } }, size_x: 2, size_y: 2 });
    }
  });

  it('drops frames that arrive while inference runs, and counts them', async () => {
    const { c, got, status } = await start();
    const pub = c.bus.advertise('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
    for (let i = 1; i <= 10; i++) pub.publish(white(i)); // synchronously: the first runs, the rest pile up
    await vi.waitFor(() => expect(got.length).toBe(2));
    await new Promise((r) => setTimeout(r, 20));
    expect(got.map((m) => m.header.stamp.sec)).toEqual([1, 10]); // the newest waiting frame, never a queue
    const inf = status().stages.find((s) => s.name.endsWith('/inference'));
    expect(inf?.drops).toBe(8);
    expect(inf?.count).toBe(2);
  });

  it('counts bad images per reason and keeps running', async () => {
    const { c, got, status } = await start();
    const pub = c.bus.advertise('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
    const bad: [sensor_msgs.Image, string, RegExp][] = [
      [{ ...white(1), encoding: 'yuv422' }, 'encoding', /encoding 'yuv422' is not supported; expected one of rgb8, bgr8/],
      [{ ...white(2), step: 10 }, 'step', /step 10 is smaller than width x channels = 32 x 3 = 96 for 'rgb8'/],
      [{ ...white(3), data: new Uint8Array(100) }, 'data_length', /data has 100 bytes; 32x32 rgb8 with step 96 needs 3072/],
      [{ ...white(4), width: 0 }, 'size', /size 0x32 is invalid/],
      [{ ...white(6), encoding: 'mono16', step: 64 }, 'encoding', /encoding 'mono16' is not supported/],
    ];
    for (const [b, reason, why] of bad) {
      const before = Number(status().values[`errors.image_${reason}`] ?? 0);
      pub.publish(b);
      await vi.waitFor(() => expect(Number(status().values[`errors.image_${reason}`])).toBe(before + 1));
      // The warning in /diagnostics names the reason and the problem.
      expect(status().level).toBe('warn');
      expect(status().message).toMatch(new RegExp(`^image_${reason}: /camera/image_raw: ${why.source}`));
    }
    pub.publish(white(5));
    await vi.waitFor(() => expect(got.length).toBe(1));
    expect(got[0].header.stamp.sec).toBe(5);
    const st = status();
    expect(st.values).toMatchObject({ 'errors.image_encoding': '2', 'errors.image_step': '1', 'errors.image_data_length': '1', 'errors.image_size': '1' });
    expect(st.stages.find((s) => s.name.endsWith('/input'))?.lastError).toMatch(/\/camera\/image_raw: encoding 'mono16' is not supported/);
    expect(st.level).toBe('ok'); // recovered on the good frame; counters keep the history
  });

  it('decodes jpeg and png CompressedImage, and counts undecodable ones', async () => {
    const { c, got, status } = await start({ image_transport: 'compressed' });
    const pub = c.bus.advertise('/camera/image_raw/compressed', 'sensor_msgs/msg/CompressedImage', QOS_SENSOR_DATA);
    const raw = { raw: { width: 32, height: 32, channels: 3 as const } };
    const png = await sharp(Buffer.alloc(32 * 32 * 3, 255), raw).png().toBuffer();
    const jpg = await sharp(Buffer.alloc(32 * 32 * 3, 255), raw).jpeg({ quality: 95 }).toBuffer();
    const msg = (sec: number, format: string, data: Uint8Array) => makeMsg('sensor_msgs/msg/CompressedImage', { header: { stamp: { sec, nanosec: 0 } }, format, data });
    pub.publish(msg(1, 'rgb8; png compressed rgb8', png));
    await vi.waitFor(() => expect(got.length).toBe(1));
    pub.publish(msg(2, 'jpeg', jpg));
    await vi.waitFor(() => expect(got.length).toBe(2));
    pub.publish(msg(3, 'jpeg', jpg.subarray(0, 40)));
    await new Promise((r) => setTimeout(r, 30));
    pub.publish(msg(4, 'bmp', png));
    await new Promise((r) => setTimeout(r, 10));
    // Whole but corrupt: scrambled entropy-coded data, which libjpeg only warns about (and decodes to grey).
    const sos = jpg.indexOf(Buffer.from([0xff, 0xda]));
    const scrambled = Buffer.from(jpg);
    for (let i = sos + 20; i < Math.min(scrambled.length - 2, sos + 60); i++) scrambled[i] ^= 0x5a;
    pub.publish(msg(6, 'jpeg', scrambled));
    await vi.waitFor(() => expect(status().values['errors.image_decode']).toBe('2'));
    expect(status().level).toBe('warn');
    expect(status().message).toMatch(/image_decode: \/camera\/image_raw\/compressed: cannot decode jpeg data \(\d+ bytes\): .*Corrupt JPEG data/);
    pub.publish(msg(5, 'png', png));
    await vi.waitFor(() => expect(got.length).toBe(3));
    expect(got.map((m) => [m.header.stamp.sec, m.detections.length])).toEqual([[1, 1], [2, 1], [5, 1]]);
    expect(status().values).toMatchObject({ 'errors.image_decode': '2', 'errors.image_format': '1' });
  });

  it('fails to configure with a clear error for a missing model when fail_on_model_error is set', async () => {
    c = new Container({ registry: new Map([['perception', perception]]), logSink: () => undefined });
    await expect(c.add({ package: 'kestrel', executable: 'perception', params: params({ model_path: '/no/such/model.onnx', fail_on_model_error: true }), remaps: [] })).rejects.toThrow(/model '\/no\/such\/model.onnx': cannot read the model file/);
  });

  it('a missing model or one with the wrong outputs: the node stays up and says why in /diagnostics', async () => {
    const CLASSIFIER = fileURLToPath(new URL('../../models/detector/tiny/tiny-classifier.onnx', import.meta.url));
    const cases: [string, RegExp, Record<string, ParamValue>][] = [
      ['/no/such/model.onnx', /cannot read the model file/, {}],
      [CLASSIFIER, /no 3-D output; outputs: output0 \[1, 10\]/, {}],
      // Outputs that do not fit what the parameters say, an input size the model cannot take.
      [TINY, /outputs 3 classes but 2 class names are given/, { class_names: ['a', 'b'], output_format: 'yolov8' }],
      [TINY, /input_size 64 does not match the model's fixed input 32x32/, { input_size: 64 }],
    ];
    for (const [model, why, extra] of cases) {
      const { c: cc, got, status } = await start({ model_path: model, ...extra });
      const pub = cc.bus.advertise('/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA);
      pub.publish(white(1));
      pub.publish(white(2));
      await vi.waitFor(() => expect(status().values['errors.model']).toBe('2'));
      const st = status();
      expect(st.level).toBe('error');
      expect(st.message).toMatch(why);
      expect(st.values.model_error).toContain(model);
      expect(got).toHaveLength(0);
      await cc.shutdownAll();
    }
  });
});
