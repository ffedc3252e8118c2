import { describe, expect, it } from 'vitest';
import { makeMsg } from '../../msgs/index.js';
import { ImageError, viewImage, type PixelView } from './image.js';
import { letterbox, letterboxGeometry, letterboxInto, toSource } from './letterbox.js';

function image(encoding: string, width: number, height: number, fill: (x: number, y: number, c: number) => number, channels: number, step = width * channels) {
  const data = new Uint8Array(step * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) data[y * step + x * channels + c] = fill(x, y, c);
  return makeMsg('sensor_msgs/msg/Image', { width, height, encoding, step, data });
}

describe('viewImage', () => {
  it('accepts rgb8, bgr8 and mono8 with padded rows', () => {
    const v = viewImage(image('bgr8', 4, 2, () => 1, 3, 16));
    expect(v).toMatchObject({ width: 4, height: 2, step: 16, channels: 3, order: 'bgr' });
    expect(viewImage(image('mono8', 4, 2, () => 1, 1)).channels).toBe(1);
  });
  it('names the problem of a bad image', () => {
    const ok = image('rgb8', 4, 2, () => 1, 3);
    const expectReason = (msg: typeof ok, reason: string, text: RegExp) => {
      try {
        viewImage(msg, '/camera/image_raw');
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ImageError);
        expect((e as ImageError).reason).toBe(reason);
        expect((e as Error).message).toMatch(text);
      }
    };
    expectReason({ ...ok, encoding: 'yuv422' }, 'encoding', /\/camera\/image_raw: encoding 'yuv422' is not supported; expected one of rgb8, bgr8, mono8/);
    expectReason({ ...ok, width: 0 }, 'size', /size 0x2 is invalid/);
    expectReason({ ...ok, step: 11 }, 'step', /step 11 is smaller than width x channels = 4 x 3 = 12/);
    expectReason({ ...ok, data: ok.data.subarray(0, 20) }, 'data_length', /data has 20 bytes; 4x2 rgb8 with step 12 needs 24/);
    expectReason({ ...ok, is_bigendian: 1 }, 'endianness', /is_bigendian=1/);
  });
});

describe('letterbox', () => {
  it('fits a wide image, pads top and bottom, and maps back', () => {
    const lb = letterboxGeometry(640, 480, 320);
    expect(lb).toMatchObject({ scaleX: 0.5, scaleY: 0.5, padX: 0, padY: 40 });
    expect(toSource(lb, 160, 160)).toEqual({ x: 320, y: 240 });
  });

  it('writes NCHW RGB in [0, 1] whatever the channel order, with 114 padding', () => {
    // Left half red, right half blue, 8x4 → 8x8 input.
    const rgb = image('rgb8', 8, 4, (x, _y, c) => (x < 4 ? [255, 0, 0][c] : [0, 0, 255][c]), 3);
    const bgr = image('bgr8', 8, 4, (x, _y, c) => (x < 4 ? [0, 0, 255][c] : [255, 0, 0][c]), 3);
    for (const msg of [rgb, bgr]) {
      const { tensor, lb } = letterbox(viewImage(msg), 8);
      expect(lb.padY).toBe(2);
      const at = (c: number, y: number, x: number) => tensor[c * 64 + y * 8 + x];
      expect(at(0, 0, 0)).toBeCloseTo(114 / 255, 6); // padding row
      expect(at(0, 3, 0)).toBeCloseTo(1, 6); // red on the left
      expect(at(2, 3, 0)).toBeCloseTo(0, 6);
      expect(at(0, 3, 7)).toBeCloseTo(0, 6); // blue on the right
      expect(at(2, 3, 7)).toBeCloseTo(1, 6);
    }
  });

  it('interpolates bilinearly when shrinking and replicates mono8 to three channels', () => {
    // Columns alternate 0 / 200: halving averages them.
    const m = image('mono8', 16, 16, (x) => (x % 2 === 0 ? 0 : 200), 1);
    const { tensor } = letterbox(viewImage(m), 8);
    for (const c of [0, 1, 2]) expect(tensor[c * 64 + 4 * 8 + 3]).toBeCloseTo(100 / 255, 5);
  });

  it('applies mean/std normalisation', () => {
    const m = image('rgb8', 2, 2, () => 255, 3);
    const { tensor } = letterbox(viewImage(m), 2, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    expect(tensor[0]).toBeCloseTo(2, 6);
  });
});

describe('letterbox padding', () => {
  it('pads left and right of a tall image and top and bottom of a wide one, leaving the image intact', () => {
    const tall = image('rgb8', 4, 8, () => 255, 3);
    const { tensor, lb } = letterbox(viewImage(tall), 8);
    expect(lb.padX).toBe(2);
    const row = Array.from(tensor.subarray(3 * 8, 4 * 8)).map((v) => Math.round(v * 255));
    expect(row).toEqual([114, 114, 255, 255, 255, 255, 114, 114]);
    // A reused buffer with stale content is fully overwritten.
    const buf = new Float32Array(3 * 64).fill(-1);
    const wide = image('rgb8', 8, 4, () => 0, 3);
    letterboxInto(viewImage(wide), 8, buf);
    expect(buf.every((v) => v === 0 || Math.abs(v - 114 / 255) < 1e-6)).toBe(true);
  });
});

describe('letterbox resampling', () => {
  /** Straight from the definition: four taps per output pixel (half-pixel centres, edges clamped). */
  function reference(img: PixelView, size: number): Float32Array {
    const out = new Float32Array(3 * size * size).fill(114 / 255);
    const lb = letterboxGeometry(img.width, img.height, size);
    const w = Math.round(img.width * lb.scaleX);
    const h = Math.round(img.height * lb.scaleY);
    const tap = (i: number, src: number, dst: number) => {
      const s = Math.min(src - 1, Math.max(0, (i + 0.5) * (src / dst) - 0.5));
      const f = Math.floor(s);
      return [f, Math.min(src - 1, f + 1), s - f];
    };
    const off = img.order === 'bgr' ? [2, 1, 0] : [0, 1, 2];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const [y0, y1, wy] = tap(y, img.height, h);
        const [x0, x1, wx] = tap(x, img.width, w);
        for (let c = 0; c < 3; c++) {
          const p = (yy: number, xx: number) => img.data[yy * img.step + xx * img.channels + off[c]];
          const v = p(y0, x0) * (1 - wx) * (1 - wy) + p(y0, x1) * wx * (1 - wy) + p(y1, x0) * (1 - wx) * wy + p(y1, x1) * wx * wy;
          out[c * size * size + (y + lb.padY) * size + x + lb.padX] = v / 255;
        }
      }
    return out;
  }

  it('gives the four-tap bilinear values when enlarging, shrinking and at odd ratios, with padded rows and bgr', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 8) & 255;
    for (const [sw, sh, size, order] of [[32, 24, 64, 'rgb'], [32, 24, 16, 'bgr'], [37, 19, 50, 'rgb'], [20, 30, 32, 'bgr']] as const) {
      const step = sw * 3 + 5; // padded rows
      const data = new Uint8Array(step * sh).map(() => rnd());
      const img: PixelView = { width: sw, height: sh, step, channels: 3, order, data };
      const got = letterbox(img, size).tensor;
      const want = reference(img, size);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, `${sw}x${sh} ${order} into ${size}`).toBeLessThan(1e-5);
    }
  });
});

