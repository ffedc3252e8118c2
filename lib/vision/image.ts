/**
 * Image validation: a sensor_msgs/Image becomes a typed view over its bytes (no copy), or
 * an ImageError whose `reason` is a short code the node counts per kind of bad input.
 */
import type { sensor_msgs } from '../../msgs/index.js';

export type PixelOrder = 'rgb' | 'bgr' | 'gray' | 'rgba' | 'bgra';

/** Interleaved 8-bit pixels; rows may be padded (`step` ≥ width × channels). */
export interface PixelView {
  width: number;
  height: number;
  /** Bytes per row. */
  step: number;
  channels: 1 | 3 | 4;
  order: PixelOrder;
  data: Uint8Array;
}

export type ImageErrorReason = 'encoding' | 'size' | 'step' | 'data_length' | 'endianness' | 'decode' | 'format';

export class ImageError extends Error {
  constructor(readonly reason: ImageErrorReason, detail: string) {
    super(detail);
    this.name = 'ImageError';
  }
}

const ENCODINGS: Record<string, { channels: 1 | 3 | 4; order: PixelOrder }> = {
  rgb8: { channels: 3, order: 'rgb' },
  bgr8: { channels: 3, order: 'bgr' },
  mono8: { channels: 1, order: 'gray' },
  rgba8: { channels: 4, order: 'rgba' },
  bgra8: { channels: 4, order: 'bgra' },
  '8UC1': { channels: 1, order: 'gray' },
  '8UC3': { channels: 3, order: 'bgr' }, // OpenCV's default channel order
};

export const SUPPORTED_ENCODINGS = Object.keys(ENCODINGS);

/** Upper bound on accepted dimensions: a corrupt header must not make us allocate gigabytes. */
export const MAX_IMAGE_SIDE = 16384;

export function viewImage(msg: sensor_msgs.Image, where = 'image'): PixelView {
  const enc = ENCODINGS[msg.encoding];
  if (!enc) {
    throw new ImageError('encoding', `${where}: encoding '${msg.encoding}' is not supported; expected one of ${SUPPORTED_ENCODINGS.join(', ')}`);
  }
  const { width, height, step } = msg;
  if (!(width > 0 && height > 0 && width <= MAX_IMAGE_SIDE && height <= MAX_IMAGE_SIDE)) {
    throw new ImageError('size', `${where}: size ${width}x${height} is invalid; expected 1..${MAX_IMAGE_SIDE} pixels per side`);
  }
  // 8-bit data has no byte order, but a 1 here usually means a mislabelled 16-bit image.
  if (msg.is_bigendian !== 0) {
    throw new ImageError('endianness', `${where}: is_bigendian=${msg.is_bigendian} for 8-bit encoding '${msg.encoding}'; expected 0`);
  }
  const minStep = width * enc.channels;
  if (step < minStep) {
    throw new ImageError('step', `${where}: step ${step} is smaller than width x channels = ${width} x ${enc.channels} = ${minStep} for '${msg.encoding}'`);
  }
  const need = step * (height - 1) + minStep;
  if (msg.data.length < need) {
    throw new ImageError('data_length', `${where}: data has ${msg.data.length} bytes; ${width}x${height} ${msg.encoding} with step ${step} needs ${step * height}`);
  }
  return { width, height, step, channels: enc.channels, order: enc.order, data: msg.data };
}
