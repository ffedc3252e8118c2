import { describe, expect, it } from 'vitest';
import { makeMsg, msgs } from '../../msgs/index.js';
import type { Detection } from './detector.js';
import { toDetectionArray } from './messages.js';

const header = makeMsg('std_msgs/msg/Header', { stamp: { sec: 12, nanosec: 345 }, frame_id: 'camera' });
const dets: Detection[] = [
  { x1: 10, y1: 20, x2: 50, y2: 100, score: 0.9, classIndex: 0, className: 'person' },
  { x1: 0, y1: 0, x2: 4, y2: 6, score: 0.3, classIndex: 1, className: 'bag' },
];

describe('toDetectionArray', () => {
  it('equals the message makeMsg builds (every default, nested), field for field', () => {
    const viaMakeMsg = makeMsg('vision_msgs/msg/Detection2DArray', {
      header,
      detections: dets.map((d) =>
        makeMsg('vision_msgs/msg/Detection2D', {
          header,
          results: [makeMsg('vision_msgs/msg/ObjectHypothesisWithPose', { hypothesis: { class_id: d.className, score: d.score } })],
          bbox: { center: { position: { x: (d.x1 + d.x2) / 2, y: (d.y1 + d.y2) / 2 }, theta: 0 }, size_x: d.x2 - d.x1, size_y: d.y2 - d.y1 },
        }),
      ),
    });
    const m = toDetectionArray(dets, header);
    expect(m).toEqual(viaMakeMsg);
    expect(msgs.decode('vision_msgs/msg/Detection2DArray', msgs.encode('vision_msgs/msg/Detection2DArray', m))).toEqual(msgs.decode('vision_msgs/msg/Detection2DArray', msgs.encode('vision_msgs/msg/Detection2DArray', viaMakeMsg)));
  });

  it('gives each detection its own covariance array', () => {
    const m = toDetectionArray(dets, header);
    expect(m.detections[0].results[0].pose.covariance).not.toBe(m.detections[1].results[0].pose.covariance);
  });
});
