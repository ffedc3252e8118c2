"""Bare session.run latency of ONNX models at several input sizes and thread counts (p50/min of
N runs after warm-up), for the model card's size / AP / ms table. Interleaves the models so load
from other work hits them alike.

  /work/venv/bin/python models/detector/latency.py models/detector/kestrel-det.onnx other.onnx --sizes 160,320,640 --threads 1,2
"""
import argparse
import time

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--sizes", default="320")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=60)
    a = ap.parse_args()
    for th in map(int, a.threads.split(",")):
        o = ort.SessionOptions()
        o.intra_op_num_threads = th
        o.inter_op_num_threads = 1
        sessions = [ort.InferenceSession(m, o, providers=["CPUExecutionProvider"]) for m in a.models]
        for size in map(int, a.sizes.split(",")):
            x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
            times = [[] for _ in sessions]
            for s in sessions:
                for _ in range(5):
                    s.run(None, {s.get_inputs()[0].name: x})
            for _ in range(a.runs):
                for i, s in enumerate(sessions):
                    t = time.perf_counter()
                    s.run(None, {s.get_inputs()[0].name: x})
                    times[i].append((time.perf_counter() - t) * 1000)
            for m, ts in zip(a.models, times):
                print(f"{m}: input {size}, {th} thread(s): p50 {np.percentile(ts, 50):.2f} ms, min {min(ts):.2f} ms")


if __name__ == "__main__":
    main()
