/** Detections → vision_msgs/Detection2DArray (pure). */
import { makeMsg, type std_msgs, type vision_msgs } from '../../msgs/index.js';
import type { Detection } from './detector.js';

export function toDetectionArray(dets: readonly Detection[], header: std_msgs.Header): vision_msgs.Detection2DArray {
  return makeMsg('vision_msgs/msg/Detection2DArray', {
    header,
    detections: dets.map((d) =>
      makeMsg('vision_msgs/msg/Detection2D', {
        header,
        results: [makeMsg('vision_msgs/msg/ObjectHypothesisWithPose', { hypothesis: { class_id: d.className, score: d.score } })],
        bbox: { center: { position: { x: (d.x1 + d.x2) / 2, y: (d.y1 + d.y2) / 2 }, theta: 0 }, size_x: d.x2 - d.x1, size_y: d.y2 - d.y1 },
      }),
    ),
  });
}
