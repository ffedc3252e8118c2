/** sensor_msgs/CompressedImage (jpeg/png) → pixels, decoded by sharp (libvips) off the main thread. */
import sharp from 'sharp';
import type { sensor_msgs } from '../../msgs/index.js';
import { ImageError, MAX_IMAGE_SIDE, type PixelView } from '../../lib/vision/image.js';

/** image_transport writes e.g. `jpeg`, `png`, `bgr8; jpeg compressed bgr8`, `rgb8; png compressed rgb8`. */
export function compressedKind(format: string): 'jpeg' | 'png' | undefined {
  const f = format.toLowerCase();
  if (/\bjpe?g\b/.test(f)) return 'jpeg';
  if (/\bpng\b/.test(f)) return 'png';
  return undefined;
}

export async function decodeCompressed(msg: sensor_msgs.CompressedImage, where = 'compressed image'): Promise<PixelView> {
  const kind = compressedKind(msg.format);
  if (!kind) throw new ImageError('format', `${where}: format '${msg.format}' is not supported; expected jpeg or png (as image_transport writes them)`);
  if (msg.data.length === 0) throw new ImageError('decode', `${where}: empty ${kind} data`);
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    // failOn 'warning' (sharp's strictest): libjpeg reports corrupt entropy-coded data ("bad
    // Huffman code", a zeroed tail) only as a warning and fills the rest with grey, which
    // 'error' would pass as a frame: detections on a picture that was never taken.
    out = await sharp(msg.data, { limitInputPixels: MAX_IMAGE_SIDE * MAX_IMAGE_SIDE, failOn: 'warning' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ImageError('decode', `${where}: cannot decode ${kind} data (${msg.data.length} bytes): ${(e as Error).message}`);
  }
  const { width, height, channels } = out.info;
  if (channels !== 1 && channels !== 3) throw new ImageError('decode', `${where}: decoded ${kind} has ${channels} channels; expected 1 or 3`);
  const data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
  return { width, height, step: width * channels, channels, order: channels === 1 ? 'gray' : 'rgb', data };
}
