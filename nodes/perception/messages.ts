/** Detections → vision_msgs/Detection2DArray (pure). */
import type { std_msgs, vision_msgs } from '../../msgs/index.js';
import type { Detection } from './detector.js';

/**
 * Built as literals, not with makeMsg: a frame carries tens of detections at 30 fps, and makeMsg
 * builds every nested default (the 36-element covariance included) and then merges over it; that
 * was three quarters of the control process's allocations (GC pauses delay the control tick).
 * The literal types make tsc check every field; the test compares with makeMsg's output.
 */
function detection(d: Detection, header: std_msgs.Header): vision_msgs.Detection2D {
  return {
    header,
    results: [
      {
        hypothesis: { class_id: d.className, score: d.score },
        // PoseWithCovariance's defaults: the identity orientation (Quaternion's w defaults to 1), zero covariance.
        pose: { pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Array<number>(36).fill(0) },
      },
    ],
    bbox: { center: { position: { x: (d.x1 + d.x2) / 2, y: (d.y1 + d.y2) / 2 }, theta: 0 }, size_x: d.x2 - d.x1, size_y: d.y2 - d.y1 },
    id: '',
  };
}

export function toDetectionArray(dets: readonly Detection[], header: std_msgs.Header): vision_msgs.Detection2DArray {
  return { header, detections: dets.map((d) => detection(d, header)) };
}
