"""Trains kestrel-det, a small anchor-free detector for the simulator's classes, and
exports it to ONNX in the YOLOv8 output layout [1, 4+nc, N] (cx, cy, w, h in input pixels,
then per-class sigmoid scores), so the node's YOLOv8 decoder serves it and user models alike.

Data: frames from dump-dataset.ts (rgb8, rendered by sim/dataset.ts). Training runs on
random 160x160 crops of the letterboxed 320x320 frame: the network is fully convolutional,
objects keep the scale they have at the 320 input, and a crop costs a quarter of a frame.
The export has dynamic H/W (multiples of 32), default input 320 in the `imgsz` metadata.

Architecture: stride-2 conv stem, a small down path to stride 16, and an FPN-style top-down
path back to stride 4 (people and bags are 3-12 px at this scale), one 1x1 head.
Targets: the cell holding a box centre is positive (plus its 3x3 neighbours for boxes of
3+ cells), focal loss on class scores, L1 + GIoU on boxes.

  /usr/bin/python3 models/detector/train.py --data /tmp/kestrel-det-data --minutes 12
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261128
CLASSES = ["person", "bag", "vehicle"]
NC = len(CLASSES)
STRIDE = 4
INPUT = 320
CROP = 160
PAD = 114
# Positive-sample weights per class in the class loss: bags are rarer than people (1 : 5) and
# look alike at 5 px, so without extra weight the person score wins at every bag.
CLASS_POS_WEIGHT = [1.0, 4.0, 1.0]


def conv(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class KestrelDet(nn.Module):
    def __init__(self, nc=NC):
        super().__init__()
        self.nc = nc
        self.stem = conv(3, 16, 3, 2)  # /2
        self.d2 = conv(16, 32, 3, 2)  # /4
        self.d3 = nn.Sequential(conv(32, 48, 3, 2), conv(48, 48))  # /8
        self.d4 = nn.Sequential(conv(48, 64, 3, 2), conv(64, 64))  # /16
        self.f3 = nn.Sequential(conv(64 + 48, 48, 1), conv(48, 48))
        self.f2 = nn.Sequential(conv(48 + 32, 32, 1), conv(32, 32))
        self.head = nn.Conv2d(32, 4 + nc, 1)
        prior = 0.01
        nn.init.constant_(self.head.bias[4:], -math.log((1 - prior) / prior))
        nn.init.zeros_(self.head.bias[:4])

    def features(self, x):
        x2 = self.d2(self.stem(x))
        x3 = self.d3(x2)
        x4 = self.d4(x3)
        y3 = self.f3(torch.cat([F.interpolate(x4, scale_factor=2.0, mode="nearest"), x3], 1))
        y2 = self.f2(torch.cat([F.interpolate(y3, scale_factor=2.0, mode="nearest"), x2], 1))
        return self.head(y2)  # [B, 4+nc, H/4, W/4]

    @staticmethod
    def decode_boxes(raw):
        """Raw head → (cx, cy, w, h) in input pixels. Each cell predicts its distances to the
        four box edges (FCOS / YOLOv8 style), so any cell inside a box can place the whole box."""
        b, _, h, w = raw.shape
        gy = (torch.arange(h, dtype=raw.dtype).view(1, h, 1) + 0.5) * STRIDE
        gx = (torch.arange(w, dtype=raw.dtype).view(1, 1, w) + 0.5) * STRIDE
        d = torch.exp(raw[:, 0:4].clamp(-4, 5)) * STRIDE
        x1 = gx - d[:, 0]
        y1 = gy - d[:, 1]
        x2 = gx + d[:, 2]
        y2 = gy + d[:, 3]
        return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)

    def forward(self, x):
        """Export form: [1, 4+nc, N], YOLOv8 layout."""
        raw = self.features(x)
        boxes = self.decode_boxes(raw)
        scores = torch.sigmoid(raw[:, 4:])
        out = torch.cat([boxes, scores], 1)
        return out.flatten(2)


def load(data_dir):
    """All parts in data_dir; also returns each frame's part name (labels-<part>.json)."""
    images, boxes, parts = [], [], []
    for part in sorted(f for f in os.listdir(data_dir) if f.startswith("labels-")):
        meta = json.load(open(os.path.join(data_dir, part)))
        w, h = meta["width"], meta["height"]
        n = len(meta["seeds"])
        arr = np.fromfile(os.path.join(data_dir, part.replace("labels-", "images-").replace(".json", ".u8")), dtype=np.uint8)
        images.append(arr.reshape(n, h, w, 3))
        boxes += [np.array(b, dtype=np.float32).reshape(-1, 5) for b in meta["boxes"]]
        parts += [part[len("labels-") : -len(".json")]] * n
    return np.concatenate(images), boxes, parts


def letterbox_np(img):
    """Letterbox a frame onto INPUT x INPUT (only exact-fit widths, as the dumps are 320 wide)."""
    h, w, _ = img.shape
    s = min(INPUT / w, INPUT / h)
    assert abs(s - 1.0) < 1e-6, "dump frames at 320 wide (or 320 high) so no resize is needed"
    out = np.full((INPUT, INPUT, 3), PAD, dtype=np.uint8)
    py, px = (INPUT - h) // 2, (INPUT - w) // 2
    out[py : py + h, px : px + w] = img
    return out, px, py


def sample_crop(rng, images, boxes, focus=None, focus_weight=0.0):
    # With --focus, a share of crops comes from the deployment-like parts (mission altitudes,
    # scenario frames), the rest from the whole set, so the model specialises without forgetting.
    if focus and rng.random() < focus_weight:
        i = focus[rng.randrange(len(focus))]
    else:
        i = rng.randrange(len(images))
    img, px, py = letterbox_np(images[i])
    b = boxes[i].copy()
    b[:, [1, 3]] += px
    b[:, [2, 4]] += py
    x0 = rng.randrange(0, INPUT - CROP + 1, STRIDE)
    y0 = rng.randrange(0, INPUT - CROP + 1, STRIDE)
    crop = img[y0 : y0 + CROP, x0 : x0 + CROP]
    b[:, [1, 3]] -= x0
    b[:, [2, 4]] -= y0
    cx = (b[:, 1] + b[:, 3]) / 2
    cy = (b[:, 2] + b[:, 4]) / 2
    b = b[(cx >= 0) & (cx < CROP) & (cy >= 0) & (cy < CROP)]
    b[:, 1:] = np.clip(b[:, 1:], 0, CROP)
    # Top-down view: flips and quarter turns are all plausible frames.
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
        b[:, [1, 3]] = CROP - b[:, [3, 1]]
    if rng.random() < 0.5:
        crop = crop[::-1]
        b[:, [2, 4]] = CROP - b[:, [4, 2]]
    if rng.random() < 0.5:
        crop = crop.transpose(1, 0, 2)
        b = b[:, [0, 2, 1, 4, 3]]
    return np.ascontiguousarray(crop), b


def targets(boxes, grid):
    """Per-cell class target [nc, g, g], box target [4, g, g] (x0, y0, x1, y1), positive mask
    and class-loss weight [g, g]. Positives: cells whose centre lies in the central half of a
    box (centre sampling), at least the cell holding the box centre. Other cells inside a box
    are ignored by the class loss: they see the object but are not asked to claim it."""
    cls_t = np.zeros((NC, grid, grid), np.float32)
    box_t = np.zeros((4, grid, grid), np.float32)
    pos = np.zeros((grid, grid), bool)
    weight = np.ones((grid, grid), np.float32)
    area = np.full((grid, grid), np.inf, np.float32)
    centres = (np.arange(grid) + 0.5) * STRIDE
    for c, x0, y0, x1, y1 in boxes:
        w, h = x1 - x0, y1 - y0
        if w < 1 or h < 1:
            continue
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        gx0, gx1 = np.searchsorted(centres, x0), np.searchsorted(centres, x1)
        gy0, gy1 = np.searchsorted(centres, y0), np.searchsorted(centres, y1)
        weight[gy0:gy1, gx0:gx1] = 0
        inner_x = (np.abs(centres - cx) <= max(w / 4, STRIDE / 2))
        inner_y = (np.abs(centres - cy) <= max(h / 4, STRIDE / 2))
        cells = [(yy, xx) for yy in np.nonzero(inner_y)[0] for xx in np.nonzero(inner_x)[0]]
        gcx, gcy = min(grid - 1, int(cx // STRIDE)), min(grid - 1, int(cy // STRIDE))
        if (gcy, gcx) not in cells:
            cells.append((gcy, gcx))
        for yy, xx in cells:
            # A cell shared by two boxes goes to the smaller one (it has fewer cells).
            if w * h < area[yy, xx]:
                cls_t[:, yy, xx] = 0
                area[yy, xx] = w * h
                pos[yy, xx] = True
                cls_t[int(c), yy, xx] = 1
                box_t[:, yy, xx] = (x0, y0, x1, y1)
    weight[pos] = 1
    return cls_t, box_t, pos, weight


def giou(a, b):
    """a, b: [N, 4] corners."""
    ix0, iy0 = torch.max(a[:, 0], b[:, 0]), torch.max(a[:, 1], b[:, 1])
    ix1, iy1 = torch.min(a[:, 2], b[:, 2]), torch.min(a[:, 3], b[:, 3])
    inter = (ix1 - ix0).clamp(0) * (iy1 - iy0).clamp(0)
    ua = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    iou = inter / ua.clamp(1e-6)
    cx0, cy0 = torch.min(a[:, 0], b[:, 0]), torch.min(a[:, 1], b[:, 1])
    cx1, cy1 = torch.max(a[:, 2], b[:, 2]), torch.max(a[:, 3], b[:, 3])
    carea = ((cx1 - cx0) * (cy1 - cy0)).clamp(1e-6)
    return iou - (carea - ua) / carea


def loss_fn(raw, cls_t, box_t, pos, weight):
    logits = raw[:, 4:]
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, cls_t, reduction="none")
    pt = p * cls_t + (1 - p) * (1 - cls_t)
    alpha = 0.25 * cls_t + 0.75 * (1 - cls_t)
    cw = torch.tensor(CLASS_POS_WEIGHT, dtype=logits.dtype).view(1, -1, 1, 1)
    focal = (alpha * (1 - pt) ** 2 * ce * weight.unsqueeze(1) * (1 + cls_t * (cw - 1))).sum()
    npos = max(1.0, float(pos.sum()))
    boxes = KestrelDet.decode_boxes(raw)  # [B, 4, g, g] cx cy w h
    corners = torch.stack([boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2, boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2], 1)
    pb = corners.permute(0, 2, 3, 1)[pos]
    tb = box_t.permute(0, 2, 3, 1)[pos]
    if len(tb) == 0:
        return focal / npos, torch.zeros(())
    l_giou = (1 - giou(pb, tb)).sum()
    scale = (tb[:, 2:] - tb[:, :2]).clamp(1).repeat(1, 2)
    l_l1 = (torch.abs(pb - tb) / scale).sum()
    return focal / npos, (2 * l_giou + l_l1) / npos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/kestrel-det-data")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "kestrel-det.onnx"))
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--ckpt", default="/tmp/kestrel-det.pt", help="checkpoint written every 50 steps and at the end")
    ap.add_argument("--resume", action="store_true", help="continue from --ckpt (a new time budget and schedule)")
    ap.add_argument("--init", default="", help="start the backbone (all but the head) from this checkpoint")
    ap.add_argument("--finetune", default="", help="start all weights from this checkpoint (new optimizer, schedule and step count continue from it)")
    ap.add_argument("--focus", default="", help="comma-separated part names to draw --focus-weight of the crops from")
    ap.add_argument("--focus-weight", type=float, default=0.5)
    ap.add_argument("--export-only", action="store_true", help="export --ckpt to --out without training")
    args = ap.parse_args()

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    rng = random.Random(SEED)

    model = KestrelDet()
    if args.export_only:
        ck = torch.load(args.ckpt)
        model.load_state_dict(ck["model"])
        export(model, args.out, ck["step"], ck.get("frames", 0))
        return
    images, boxes, parts = load(args.data)
    focus = [i for i, p in enumerate(parts) if p in set(args.focus.split(","))] if args.focus else None
    print(f"{len(images)} frames, {sum(len(b) for b in boxes)} boxes, {len(focus or [])} focus frames", flush=True)
    print(f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    done = 0
    if args.init:
        ck = torch.load(args.init)
        state = {k: v for k, v in ck["model"].items() if not k.startswith("head.")}
        model.load_state_dict(state, strict=False)
        print(f"backbone from {args.init} ({ck['step']} steps)", flush=True)
    if args.finetune:
        ck = torch.load(args.finetune)
        model.load_state_dict(ck["model"])
        done = ck["step"]
        rng.seed(SEED + done)
        print(f"fine-tuning {args.finetune} from step {done}", flush=True)
    if args.resume:
        ck = torch.load(args.ckpt)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        done = ck["step"]
        rng.seed(SEED + done)
        print(f"resumed from {args.ckpt} at step {done}", flush=True)
    grid = CROP // STRIDE
    budget = args.minutes * 60
    t0 = time.time()
    step = 0
    base_lr = args.lr

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": done + step, "frames": len(images)}, args.ckpt)

    while True:
        frac = (time.time() - t0) / budget if budget > 0 else 1.0
        if frac >= 1:
            break
        # Warmup then cosine on the time budget, so the schedule ends when the budget does.
        warm = 1.0 if args.resume else min(1.0, (step + 1) / 100)
        lr = base_lr * warm * (0.5 * (1 + math.cos(math.pi * frac)) * 0.95 + 0.05)
        for g in opt.param_groups:
            g["lr"] = lr
        xs, cts, bts, ps, ws = [], [], [], [], []
        for _ in range(args.batch):
            crop, b = sample_crop(rng, images, boxes, focus, args.focus_weight)
            ct, bt, pm, wt = targets(b, grid)
            xs.append(crop)
            cts.append(ct)
            bts.append(bt)
            ps.append(pm)
            ws.append(wt)
        x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float() / 255.0
        raw = model.features(x)
        lc, lb = loss_fn(raw, torch.from_numpy(np.stack(cts)), torch.from_numpy(np.stack(bts)), torch.from_numpy(np.stack(ps)), torch.from_numpy(np.stack(ws)))
        loss = lc + lb
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            save()
            print(f"step {done + step} t={time.time() - t0:.0f}s lr={lr:.5f} cls={lc.item():.4f} box={lb.item():.4f}", flush=True)

    save()
    export(model, args.out, done + step, len(images))


def export(model, out, steps, frames):
    model.eval()
    dummy = torch.zeros(1, 3, INPUT, INPUT)
    torch.onnx.export(
        model,
        dummy,
        out,
        input_names=["images"],
        output_names=["output0"],
        dynamic_axes={"images": {2: "height", 3: "width"}, "output0": {2: "anchors"}},
        opset_version=13,
        do_constant_folding=True,
    )
    import onnx

    m = onnx.load(out)
    # Tracing loses the static batch/channel dims of the output: declare [1, 4+nc, anchors].
    out_dims = m.graph.output[0].type.tensor_type.shape.dim
    out_dims[0].dim_value = 1
    out_dims[1].dim_value = 4 + NC
    out_dims[2].dim_param = "anchors"
    names = "{" + ", ".join(f"{i}: '{n}'" for i, n in enumerate(CLASSES)) + "}"
    props = {"names": names, "imgsz": f"[{INPUT}, {INPUT}]", "stride": str(STRIDE), "task": "detect", "author": "kestrel models/detector/train.py", "seed": str(SEED), "steps": str(steps), "frames": str(frames)}
    onnx.helper.set_model_props(m, props)
    onnx.checker.check_model(m)
    onnx.save(m, out)
    print(f"exported {out} after {steps} steps, {os.path.getsize(out)} bytes", flush=True)


if __name__ == "__main__":
    main()
