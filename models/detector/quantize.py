"""INT8 static quantization of kestrel-det with calibration frames (ONNX Runtime QDQ, per-channel
weights, MinMax activations). Calibration frames come from a dump of scenario and mission-altitude
frames (dump-dataset.ts), letterboxed exactly as the node does.

  /work/venv/bin/python models/detector/quantize.py --model models/detector/kestrel-det.onnx \
      --calib /tmp/kcal --frames 200 --out /tmp/kestrel-det-int8.onnx
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import load, letterbox_np  # noqa: E402


class Frames(CalibrationDataReader):
    def __init__(self, images, name):
        self.it = iter([{name: letterbox_np(img)[0].transpose(2, 0, 1)[None].astype(np.float32) / 255.0} for img in images])

    def get_next(self):
        return next(self.it, None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/detector/kestrel-det.onnx")
    ap.add_argument("--calib", required=True)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-channel", action="store_true", default=True)
    a = ap.parse_args()
    images, _, _, _ = load(a.calib)
    images = images[: a.frames]
    pre = a.out + ".pre.onnx"
    # Dynamic H/W: symbolic shape inference cannot finish; the ONNX optimizer pass is enough.
    quant_pre_process(a.model, pre, skip_symbolic_shape=True)
    name = onnx.load(pre).graph.input[0].name
    # The decode tail (exp, grid, concat, sigmoid) stays float: only the convolutions are quantized.
    quantize_static(pre, a.out, Frames(images, name), quant_format=QuantFormat.QDQ, per_channel=a.per_channel,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"])
    m = onnx.load(a.out)
    src = onnx.load(a.model)
    onnx.helper.set_model_props(m, {p.key: p.value for p in src.metadata_props} | {"quantization": f"int8 static QDQ, {len(images)} calibration frames"})
    onnx.save(m, a.out)
    os.remove(pre)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes) from {a.model}, {len(images)} calibration frames")


if __name__ == "__main__":
    main()
