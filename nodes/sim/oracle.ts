/**
 * oracle_detector: perfect perception. Republishes the simulator's ground-truth labels as
 * /detections (score 0.9), so the tracker, rules, planner and arbiter can be evaluated
 * independently of the detector's accuracy (`kestrel eval --perception oracle`).
 */
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { defineNode, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';

export const oracleDetectorNode = defineNode({
  name: 'oracle_detector',
  description: 'Perfect perception for evaluation: /camera/labels (ground truth) → /detections',
  params: {
    score: p.double(0.9, 'Score given to every detection', { min: 0, max: 1 }),
  },
  publishes: [topicDoc('/detections', 'Visible ground-truth boxes')],
  subscribes: [topicDoc('/camera/labels', 'Simulator ground truth')],
  create(ctx, prm) {
    const pub = ctx.advertise('/detections');
    const toDets = (la: kestrel_msgs.LabelArray) =>
      makeMsg('vision_msgs/msg/Detection2DArray', {
        header: la.header,
        detections: la.labels
          .filter((l) => l.visible)
          .map((l) =>
            makeMsg('vision_msgs/msg/Detection2D', {
              header: la.header,
              bbox: l.bbox,
              results: [makeMsg('vision_msgs/msg/ObjectHypothesisWithPose', { hypothesis: { class_id: l.class_id, score: prm.score } })],
            }),
          ),
      });
    return { activate: () => ctx.subscribe('/camera/labels').subscribe((la) => pub.publish(toDets(la))) };
  },
});
