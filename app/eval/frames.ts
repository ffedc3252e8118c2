/**
 * Camera frames for the report: raw sensor_msgs/Image pixels encoded as JPEG data URLs with
 * sharp (the report is one offline file). Boxes stay as data; the page draws them over the image.
 */
import sharp from 'sharp';
import type { FrameSnapshot } from '../mission/monitor.js';

export interface ReportFrame {
  t: number;
  width: number;
  height: number;
  jpeg: string;
  boxes: FrameSnapshot['boxes'];
}

const CHANNELS: Record<string, 1 | 3 | 4> = { mono8: 1, rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4 };

/** Encodes the kept frames; a frame in an encoding this cannot read is reported, not drawn wrong. */
export async function encodeFrames(frames: readonly FrameSnapshot[], quality = 80): Promise<{ frames: ReportFrame[]; skipped: string[] }> {
  const out: ReportFrame[] = [];
  const skipped: string[] = [];
  for (const f of frames) {
    const channels = CHANNELS[f.encoding];
    if (!channels || f.data.length < f.width * f.height * channels) {
      skipped.push(`frame at ${f.t.toFixed(1)} s: encoding '${f.encoding}' with ${f.data.length} bytes for ${f.width}×${f.height} is not drawable`);
      continue;
    }
    let px = Buffer.from(f.data.buffer, f.data.byteOffset, f.width * f.height * channels);
    if (f.encoding.startsWith('bgr')) {
      px = Buffer.from(px);
      for (let i = 0; i < px.length; i += channels) [px[i], px[i + 2]] = [px[i + 2], px[i]];
    }
    const jpg = await sharp(px, { raw: { width: f.width, height: f.height, channels } }).jpeg({ quality }).toBuffer();
    out.push({ t: f.t, width: f.width, height: f.height, jpeg: `data:image/jpeg;base64,${jpg.toString('base64')}`, boxes: f.boxes });
  }
  return { frames: out, skipped };
}
