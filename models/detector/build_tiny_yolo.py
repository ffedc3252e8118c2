"""Builds tiny YOLO-shaped ONNX models whose output is a known function of the input.

Each model takes an image tensor [1, 3, 32, 32] (float32), flattens it, keeps the first
R*C values, reshapes them to the export layout and multiplies by 2. A test writes the
tensor it wants the decoder to see (halved) into the input, so decoders are checked on
known tensors through a real ONNX Runtime session.

  tiny-yolov8.onnx   output [1, 4+nc, N] = [1, 7, 64]   (YOLOv8 / YOLO11 layout)
  tiny-yolov5.onnx   output [1, N, 5+nc] = [1, 64, 8]   (YOLOv5 layout)
  tiny-e2e.onnx      output [1, N, 6]    = [1, 16, 6]   (NMS-inside exports)
  tiny-classifier.onnx  output [1, 10]  (wrong kind of model, for the error path)

Class names go in the `names` metadata the way Ultralytics writes them.
Run: /usr/bin/python3 models/detector/build_tiny_yolo.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tiny")
SIZE = 32
NAMES = "{0: 'person', 1: 'bag', 2: 'vehicle'}"


def build(name, out_shape):
    count = int(np.prod(out_shape))
    assert count <= 3 * SIZE * SIZE
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "start"),
        numpy_helper.from_array(np.array([count], dtype=np.int64), "end"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis"),
        numpy_helper.from_array(np.array(out_shape, dtype=np.int64), "shape"),
        numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two"),
    ]
    nodes = [
        helper.make_node("Flatten", ["images"], ["flat"], axis=1),
        helper.make_node("Slice", ["flat", "start", "end", "axis"], ["head"]),
        helper.make_node("Reshape", ["head", "shape"], ["shaped"]),
        helper.make_node("Mul", ["shaped", "two"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(out_shape))],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="kestrel-tiny-yolo", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, {"names": NAMES, "imgsz": f"[{SIZE}, {SIZE}]", "task": "detect"})
    onnx.checker.check_model(model)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(model, os.path.join(OUT, f"{name}.onnx"))


if __name__ == "__main__":
    build("tiny-yolov8", [1, 7, 64])
    build("tiny-yolov5", [1, 64, 8])
    build("tiny-e2e", [1, 16, 6])
    # Not a detector (a classifier-shaped output): the node must refuse it with a clear error.
    build("tiny-classifier", [1, 10])
    print("wrote", OUT)
