/**
 * image_compressor: sensor_msgs/Image → sensor_msgs/CompressedImage (JPEG through sharp), as
 * image_transport's compressed publisher does, at most `rate_hz` frames per second of frame
 * stamps and at `jpeg_quality`. The mission records these (a few kB a frame) instead of raw
 * frames (230 kB at 320x240), so `kestrel eval <recording>` can re-run real perception.
 * Bad frames are counted per reason in diagnostics (`errors.image_<reason>`) and skipped.
 */
import sharp from 'sharp';
import { makeMsg, type sensor_msgs } from '../../msgs/index.js';
import { defineNode } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { timeToMs } from '../../runtime/time.js';
import { ImageError, viewImage, type PixelView } from '../../lib/vision/image.js';

/** Tightly packed RGB (or gray) pixels of a view, in the order sharp reads raw input. */
export function packedPixels(v: PixelView): { data: Uint8Array; channels: 1 | 3 } {
  const outCh = v.channels === 1 ? 1 : 3;
  const rgbIndex = v.order === 'bgr' || v.order === 'bgra' ? [2, 1, 0] : [0, 1, 2];
  if (v.channels === outCh && v.step === v.width * v.channels && rgbIndex[0] === 0) return { data: v.data.subarray(0, v.step * v.height), channels: outCh };
  const out = new Uint8Array(v.width * v.height * outCh);
  for (let y = 0; y < v.height; y++) {
    const row = y * v.step;
    for (let x = 0; x < v.width; x++) {
      const s = row + x * v.channels;
      const d = (y * v.width + x) * outCh;
      if (outCh === 1) out[d] = v.data[s];
      else {
        out[d] = v.data[s + rgbIndex[0]];
        out[d + 1] = v.data[s + rgbIndex[1]];
        out[d + 2] = v.data[s + rgbIndex[2]];
      }
    }
  }
  return { data: out, channels: outCh };
}

export async function encodeJpeg(v: PixelView, quality: number): Promise<Buffer> {
  const { data, channels } = packedPixels(v);
  return sharp(data, { raw: { width: v.width, height: v.height, channels } }).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}

export const imageCompressorNode = defineNode({
  name: 'image_compressor',
  description: 'Camera frames → JPEG sensor_msgs/CompressedImage at a capped rate (for recording and low-bandwidth links)',
  params: {
    input_topic: p.string('/camera/image_raw', 'Raw image topic; the output is <input_topic>/compressed, as image_transport names it'),
    rate_hz: p.double(5, 'Most frames per second (by frame stamp); 0 = every frame', { min: 0, max: 120 }),
    jpeg_quality: p.int(90, 'JPEG quality 1-100 (the detector loses little above 85 on sim frames)', { min: 1, max: 100 }),
  },
  subscribes: [{ topic: '/camera/image_raw', type: 'sensor_msgs/msg/Image', description: 'rgb8, bgr8, mono8, rgba8, bgra8, 8UC1, 8UC3 frames' }],
  publishes: [{ topic: '/camera/image_raw/compressed', type: 'sensor_msgs/msg/CompressedImage', description: "format 'rgb8; jpeg compressed bgr8' (image_transport's spelling)" }],
  create(ctx, params) {
    const outTopic = `${params.input_topic}/compressed`;
    const pub = ctx.advertise(outTopic, 'sensor_msgs/msg/CompressedImage', QOS_SENSOR_DATA);
    const stage = ctx.diag.stage('encode');
    const errors = new Map<string, number>();
    const periodMs = params.rate_hz > 0 ? 1000 / params.rate_hz : 0;
    let lastMs: number | undefined;
    let busy = false;
    let published = 0;
    ctx.diag.values.quality = String(params.jpeg_quality);
    ctx.diag.values.rate_hz = String(params.rate_hz);

    const countError = (e: unknown): void => {
      const reason = e instanceof ImageError ? `image_${e.reason}` : 'encode';
      const n = (errors.get(reason) ?? 0) + 1;
      errors.set(reason, n);
      ctx.diag.values[`errors.${reason}`] = String(n);
      stage.error(e);
      ctx.diag.set('warn', `${reason}: ${e instanceof Error ? e.message : String(e)}`);
    };
    const onFrame = async (msg: sensor_msgs.Image): Promise<void> => {
      const t = timeToMs(msg.header.stamp);
      // Half a millisecond of slack: stamps of a 5 Hz camera are 200 ms apart give or take rounding.
      if (lastMs !== undefined && t >= lastMs && t - lastMs < periodMs - 0.5) return;
      let view: PixelView;
      try {
        view = viewImage(msg, params.input_topic);
      } catch (e) {
        countError(e);
        return;
      }
      if (busy) {
        stage.drop();
        return;
      }
      busy = true;
      try {
        const r = await ctx.compute('encode', async () => encodeJpeg(view, params.jpeg_quality));
        lastMs = t;
        pub.publish(makeMsg('sensor_msgs/msg/CompressedImage', { header: msg.header, format: `${msg.encoding}; jpeg compressed bgr8`, data: new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.length) }));
        stage.record(r.chargedMs);
        ctx.diag.values.published = String(++published);
        ctx.diag.values.last_bytes = String(r.value.length);
      } catch (e) {
        countError(e);
      } finally {
        busy = false;
      }
    };
    return {
      activate: () => ctx.subscribe(params.input_topic, 'sensor_msgs/msg/Image', QOS_SENSOR_DATA).subscribe((m) => void onFrame(m)),
      shutdown: () => pub.close(),
    };
  },
});

export default imageCompressorNode;
