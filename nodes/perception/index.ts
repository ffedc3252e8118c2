/**
 * perception: camera frames → /detections, with an ONNX Runtime detector.
 *
 * Frames are taken latest-only: while one frame is in inference, newer frames replace
 * the one waiting and the replaced ones are dropped and counted (stage `inference`
 * drops), so the detections are never older than one inference plus one frame.
 * A bad image or a failed run is counted per reason and reported; the node keeps going.
 * Inference runs in a supervised child process by default (ProcessDetector, `isolation`):
 * a native crash, hang or runaway memory there cannot stop the control process; while the
 * child restarts, frames are dropped and counted (`errors.child_down`). `worker` runs it in a
 * worker_thread, `inprocess` on this thread (onnxruntime-node 1.30 runs a session
 * synchronously on the calling thread, which stalls every node in the process: tests only).
 */
import { map, type Observable } from 'rxjs';
import type { sensor_msgs } from '../../msgs/index.js';
import { defineNode, paramTopicDoc, topicDoc } from '../../runtime/node.js';
import { p } from '../../runtime/params.js';
import { QOS_SENSOR_DATA } from '../../runtime/qos.js';
import { latestOnly } from '../../runtime/operators.js';
import { timeToMs } from '../../runtime/time.js';
import { decodeCompressed } from './compressed.js';
import { ImageError, viewImage } from '../../lib/vision/image.js';
import { toDetectionArray } from './messages.js';
import { WorkerDetector } from './worker-detector.js';
import { Detector, ModelLoadError, type DetectorOptions } from './detector.js';
import type { NodeContext } from '../../runtime/node.js';
import { ProcessDetector } from './process-detector.js';
import { childOptions, childParams } from '../../lib/process/params.js';
import { bindChildDiagnostics } from '../../lib/process/diagnostics.js';
import { ChildLostError, ChildUnavailableError } from '../../lib/process/supervisor.js';
/**
 * The node without a usable model: up, subscribed, and saying why in /diagnostics (level
 * ERROR, `errors.model` counts the frames it could not process), so the rest of the pipeline
 * and the operator see the fault instead of a node that never started.
 */
function degraded(ctx: NodeContext, params: { model_path: string; image_transport: string; image_topic: string }, e: ModelLoadError) {
  const diag = ctx.diag;
  diag.values.model = params.model_path;
  diag.values.model_error = e.message;
  diag.set('error', e.message);
  ctx.log.error(`${e.message}; no detections until the node is reconfigured with a usable model`);
  const stage = diag.stage('inference');
  const topic = params.image_transport === 'raw' ? params.image_topic : `${params.image_topic}/compressed`;
  let n = 0;
  const onFrame = (): void => {
    diag.values['errors.model'] = String(++n);
    stage.error(e);
  };
  return {
    activate: () =>
      params.image_transport === 'raw'
        ? ctx.subscribe(topic, 'sensor_msgs/msg/Image', QOS_SENSOR_DATA).subscribe(onFrame)
        : ctx.subscribe(topic, 'sensor_msgs/msg/CompressedImage', QOS_SENSOR_DATA).subscribe(onFrame),
  };
}

type Frame = { kind: 'raw'; msg: sensor_msgs.Image } | { kind: 'compressed'; msg: sensor_msgs.CompressedImage };

export const perception = defineNode({
  name: 'perception',
  description: 'Object detection on camera frames with ONNX Runtime (kestrel-det, or any YOLOv8/YOLO11/YOLOv5/end-to-end ONNX export)',
  params: {
    model_path: p.string('models/detector/kestrel-det.onnx', 'ONNX model file (relative paths from the working directory)'),
    input_size: p.int(0, 'Square model input side in pixels; 0 = from the model (fixed input shape or imgsz metadata)', { min: 0, max: 4096 }),
    class_names: p.stringArray([], 'Class names by output index; empty = from the model metadata (Ultralytics exports carry them)'),
    output_format: p.string('auto', 'Output layout: yolov8 [1,4+nc,N], yolov5 [1,N,5+nc], end2end [1,N,6]; auto = from the output shape', ['auto', 'yolov8', 'yolov5', 'end2end']),
    score_threshold: p.double(0.25, 'Minimum detection score', { min: 0, max: 1 }),
    class_score_threshold: p.group('double', 'Per-class minimum score, `class_score_threshold.<class>: 0.15` (the other classes use score_threshold); a name the model lacks fails the model load, naming its classes'),
    nms_iou_threshold: p.double(0.45, 'IoU above which a lower-scored box of the same class is suppressed', { min: 0, max: 1 }),
    agnostic_nms: p.bool(false, 'Suppress overlapping boxes across classes'),
    max_detections: p.int(100, 'Most detections per frame', { min: 1, max: 10000 }),
    intra_op_threads: p.int(1, 'ONNX Runtime intra-op threads', { min: 1, max: 64 }),
    execution_providers: p.stringArray(['cpu'], 'ONNX Runtime execution providers in order of preference (cpu, cuda, tensorrt, coreml, dml, ...)'),
    image_transport: p.string('raw', "'raw' subscribes to the image topic, 'compressed' to <image topic>/compressed (jpeg/png)", ['raw', 'compressed']),
    image_topic: p.string('/camera/image_raw', 'Camera topic (for compressed, /compressed is appended, as image_transport does)'),
    latency_budget_ms: p.double(100, 'Per-frame latency budget from receipt to /detections; a longer frame counts as a miss (it is not aborted)', { min: 0 }),
    ...childParams({ nice: 5, sched: 'batch', memoryMb: 1024 }),
    isolation: p.string('process', "Where the session runs: 'process' (supervised child process), 'worker' (a worker_thread here), 'inprocess' (this thread; stalls the event loop per frame)", ['process', 'worker', 'inprocess']),
    fail_on_model_error: p.bool(false, 'A model that cannot be loaded (missing, corrupt, wrong inputs/outputs) fails configure; false: the node comes up, reports the error in /diagnostics (level ERROR) and counts every frame as errors.model'),
  },
  subscribes: [
    { ...paramTopicDoc('image_topic', '/camera/image_raw', 'sensor_msgs/msg/Image', QOS_SENSOR_DATA, 'rgb8, bgr8, mono8 (also rgba8, bgra8, 8UC1, 8UC3) frames'), at: (p) => (p.image_transport === 'raw' ? String(p.image_topic) : undefined) },
    { ...paramTopicDoc('image_topic', '/camera/image_raw/compressed', 'sensor_msgs/msg/CompressedImage', QOS_SENSOR_DATA, 'jpeg/png frames when image_transport is compressed'), at: (p) => (p.image_transport === 'compressed' ? `${String(p.image_topic)}/compressed` : undefined) },
  ],
  publishes: [topicDoc('/detections', 'Detections in source-image pixels; header.stamp = the frame stamp')],

  async create(ctx, params) {
    const opts: DetectorOptions = {
      modelPath: params.model_path,
      inputSize: params.input_size,
      classNames: params.class_names,
      format: params.output_format as 'auto' | 'yolov8' | 'yolov5' | 'end2end',
      scoreThreshold: params.score_threshold,
      classScoreThresholds: params.class_score_threshold,
      iouThreshold: params.nms_iou_threshold,
      agnosticNms: params.agnostic_nms,
      maxDetections: params.max_detections,
      intraOpNumThreads: params.intra_op_threads,
      executionProviders: params.execution_providers,
    };
    const create = (): Promise<Detector | WorkerDetector | ProcessDetector> =>
      params.isolation === 'process' ? ProcessDetector.create(opts, childOptions(params))
      : params.isolation === 'worker' ? WorkerDetector.create(opts)
      : Detector.create(opts);
    const detectorOrError = await create().catch((e: unknown) => {
      if (params.fail_on_model_error || !(e instanceof ModelLoadError)) throw e;
      return e;
    });
    const diag = ctx.diag;
    if (detectorOrError instanceof ModelLoadError) return degraded(ctx, params, detectorOrError);
    const detector = detectorOrError;
    diag.values.isolation = params.isolation;
    if (detector instanceof ProcessDetector) bindChildDiagnostics(detector.supervisor, diag, ctx.log);
    diag.values.model = params.model_path;
    diag.values.input_size = String(detector.inputSize);
    diag.values.output_format = detector.format;
    diag.values.classes = detector.classNames.join(',');
    ctx.log.info(`loaded ${params.model_path}: ${detector.format} output, ${detector.classNames.length} classes, input ${detector.inputSize}x${detector.inputSize}`);

    const stage = diag.stage('inference');
    const badInput = diag.stage('input');
    const errorCounts = new Map<string, number>();
    const countError = (e: unknown): void => {
      if (e instanceof ChildUnavailableError || e instanceof ChildLostError) {
        // The child is down (the supervisor reports why and restarts it): the frame is dropped and counted.
        const n = (errorCounts.get('child_down') ?? 0) + 1;
        errorCounts.set('child_down', n);
        diag.values['errors.child_down'] = String(n);
        stage.drop();
        return;
      }
      const reason = e instanceof ImageError ? `image_${e.reason}` : 'inference';
      const n = (errorCounts.get(reason) ?? 0) + 1;
      errorCounts.set(reason, n);
      diag.values[`errors.${reason}`] = String(n);
      (e instanceof ImageError ? badInput : stage).error(e);
      diag.set('warn', `${reason}: ${e instanceof Error ? e.message : String(e)}`);
    };
    const pub = ctx.advertise('/detections');
    const topic = params.image_transport === 'raw' ? params.image_topic : `${params.image_topic}/compressed`;

    const process = async (f: Frame) => {
      const received = ctx.clock.now();
      const r = await ctx.compute('inference', async () => {
        const view = f.kind === 'raw' ? viewImage(f.msg, topic) : await decodeCompressed(f.msg, topic);
        return detector.detect(view);
      });
      if (ctx.clock.now() - received > params.latency_budget_ms) stage.miss();
      if (detector instanceof ProcessDetector) diag.values.frame_transport = detector.transport;
      diag.values.age_ms = (ctx.clock.now() - timeToMs(f.msg.header.stamp)).toFixed(1);
      if (diag.level === 'warn') diag.set('ok', ''); // recovered; the counters keep the history
      return toDetectionArray(r.value, ctx.header(f.msg.header.stamp, f.msg.header.frame_id));
    };

    return {
      activate() {
        const frames: Observable<Frame> =
          params.image_transport === 'raw'
            ? ctx.subscribe(topic, 'sensor_msgs/msg/Image', QOS_SENSOR_DATA).pipe(map((msg): Frame => ({ kind: 'raw', msg })))
            : ctx.subscribe(topic, 'sensor_msgs/msg/CompressedImage', QOS_SENSOR_DATA).pipe(map((msg): Frame => ({ kind: 'compressed', msg })));
        return frames
          .pipe(latestOnly(process, { onDrop: () => stage.drop(), onError: countError }))
          .subscribe((msg) => pub.publish(msg));
      },
      async shutdown() {
        pub.close();
        await detector.release();
      },
    };
  },
});
