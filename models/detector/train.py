"""Trains kestrel-det, a small anchor-free detector for the simulator's classes, and
exports it to ONNX in the YOLOv8 output layout [1, 4+nc, N] (cx, cy, w, h in input pixels,
then per-class sigmoid scores), so the node's YOLOv8 decoder serves it and user models alike.

Data: frames from dump-dataset.ts (rgb8, rendered by sim/dataset.ts). Training runs on
160x160 crops of the letterboxed 320x320 frame: the network is fully convolutional,
objects keep the scale they have at the 320 input, and a crop costs a quarter of a frame.
Half of the crops are centred near a labelled object (bags drawn 3x as often as their
share), so the rare small class is seen often; the rest are anywhere (background, clutter:
the hard negatives). Flips, quarter turns, exposure/contrast/tint jitter and sensor noise.
The export has dynamic H/W (multiples of 32), default input 320 in the `imgsz` metadata.

Architecture v2: stride-2 conv stem, a small down path to stride 16 (with a residual block
for context), an FPN-style top-down path back to stride 4 (people and bags are 5-10 px at
mission altitude), a residual block at stride 4, one 1x1 head.
Targets: centre sampling (cells in the central half of a box, at least the centre cell),
other cells inside a box ignored by the class loss; focal loss on classes, GIoU + L1 on boxes.

v2 grew from v1 (the committed model of rounds 1-6): `--init-onnx` loads v1's folded
conv weights and re-creates each BatchNorm from the batch statistics of its conv, so the
network starts as exactly v1 in training mode; the new residual blocks start as identities.

  /work/venv/bin/python models/detector/train.py --data /tmp/kd2 --init-onnx v1.onnx --minutes 30 --threads 1
  /work/venv/bin/python models/detector/train.py --data /tmp/kd2 --resume --minutes 30 --threads 1   # next round
  /work/venv/bin/python models/detector/train.py --val /tmp/kval --eval-onnx models/detector/kestrel-det.onnx
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
CLASS_POS_WEIGHT = [1.0, 3.0, 1.0]
# Object-centred crops: per-class draw weight of the object a crop is centred on.
CENTRE_CLASS_WEIGHT = [1.0, 3.0, 1.5]


def conv(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Res(nn.Module):
    """relu(x + BN(conv(x))). BN's scale starts at 0, so the block starts as the identity
    (x is already >= 0) and a grown network keeps what it knew."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(c)
        nn.init.zeros_(self.bn.weight)

    def forward(self, x):
        return F.relu(x + self.bn(self.conv(x)))


class KestrelDet(nn.Module):
    def __init__(self, nc=NC):
        super().__init__()
        self.nc = nc
        self.stem = conv(3, 16, 3, 2)  # /2
        self.d2 = conv(16, 32, 3, 2)  # /4
        self.d3 = nn.Sequential(conv(32, 48, 3, 2), conv(48, 48))  # /8
        # Context at /16: a blob beside a person, on a bench, in a queue.
        self.d4 = nn.Sequential(conv(48, 64, 3, 2), conv(64, 64), Res(64))  # /16
        self.f3 = nn.Sequential(conv(64 + 48, 48, 1), conv(48, 48))
        # Bag vs head-and-shoulders is decided on a few pixels: one more block at /4.
        self.f2 = nn.Sequential(conv(48 + 32, 32, 1), conv(32, 32), Res(32))
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


def init_from_onnx(model, path, images):
    """Loads a v1 or v2 ONNX export (BatchNorm folded into conv weight + bias) into the v2
    network: each conv gets the export's weight, and its BatchNorm is set from the batch statistics of that
    conv's output on real crops (scale = std, shift = mean + v1 bias), layer by layer, so in
    training mode BN(conv(x)) reproduces the export's conv(x) + b. From v1, Res blocks stay identities."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    pairs = [(init[n.input[1]], init[n.input[2]]) for n in convs]
    # (conv, bn) of every unit in forward order. A v2 export holds the Res blocks' convs too; in
    # v1's layout they have none and stay identities.
    plain = [(s[0], s[1]) for s in model.modules() if isinstance(s, nn.Sequential) and len(s) == 3 and isinstance(s[1], nn.BatchNorm2d)]
    every = [(s[0], s[1]) if isinstance(s, nn.Sequential) else (s.conv, s.bn) for s in model.modules()
             if isinstance(s, Res) or (isinstance(s, nn.Sequential) and len(s) == 3 and isinstance(s[1], nn.BatchNorm2d))]
    units = every if len(pairs) == len(every) + 1 else plain
    assert len(pairs) == len(units) + 1, f"{path}: {len(pairs)} convs, expected {len(plain) + 1} (v1) or {len(every) + 1} (v2)"
    x = torch.from_numpy(np.stack([letterbox_np(images[i])[0][80:240, 80:240] for i in range(0, len(images), max(1, len(images) // 64))])).permute(0, 3, 1, 2).float() / 255.0
    for (w, b), (cv, bn) in zip(pairs[:-1], units):
        assert tuple(w.shape) == tuple(cv.weight.shape), f"{path}: conv {w.shape} where the network has {tuple(cv.weight.shape)}"
        cv.weight.data = torch.from_numpy(w.copy())
        stats = {}

        def hook(_m, _i, out, stats=stats, eps=bn.eps):
            stats["mean"] = out.mean((0, 2, 3)).detach()
            stats["std"] = (out.var((0, 2, 3), unbiased=False) + eps).sqrt().detach()

        h = cv.register_forward_hook(hook)
        with torch.no_grad():
            model.train()
            model.features(x)
        h.remove()
        bn.weight.data = stats["std"].clone()
        bn.bias.data = stats["mean"] + torch.from_numpy(b.copy())
        bn.running_mean.data = stats["mean"].clone()
        bn.running_var.data = stats["std"] ** 2 - bn.eps
    model.head.weight.data = torch.from_numpy(pairs[-1][0].copy())
    model.head.bias.data = torch.from_numpy(pairs[-1][1].copy())


def load(data_dir):
    """All parts in data_dir: images, target boxes, ignored boxes (labels mostly outside the
    image) and each frame's part name (labels-<part>.json)."""
    images, boxes, ignored, parts = [], [], [], []
    for part in sorted(f for f in os.listdir(data_dir) if f.startswith("labels-")):
        meta = json.load(open(os.path.join(data_dir, part)))
        w, h = meta["width"], meta["height"]
        n = len(meta["seeds"])
        arr = np.fromfile(os.path.join(data_dir, part.replace("labels-", "images-").replace(".json", ".u8")), dtype=np.uint8)
        images.append(arr.reshape(n, h, w, 3))
        boxes += [np.array(b, dtype=np.float32).reshape(-1, 5) for b in meta["boxes"]]
        ignored += [np.array(b, dtype=np.float32).reshape(-1, 5) for b in meta.get("ignored", [[]] * n)]
        parts += [part[len("labels-") : -len(".json")]] * n
    return np.concatenate(images), boxes, ignored, parts


def letterbox_np(img):
    """Letterbox a frame onto INPUT x INPUT (only exact-fit widths, as the dumps are 320 wide)."""
    h, w, _ = img.shape
    s = min(INPUT / w, INPUT / h)
    assert abs(s - 1.0) < 1e-6, "dump frames at 320 wide (or 320 high) so no resize is needed"
    out = np.full((INPUT, INPUT, 3), PAD, dtype=np.uint8)
    py, px = (INPUT - h) // 2, (INPUT - w) // 2
    out[py : py + h, px : px + w] = img
    return out, px, py


def pick_frame(rng, n, weights):
    """weights: [(frame indices, share)]."""
    r = rng.random()
    for idx, share in weights:
        if r < share:
            return idx[rng.randrange(len(idx))]
        r -= share
    return rng.randrange(n)


def sample_crop(rng, images, boxes, ignored, i):
    img, px, py = letterbox_np(images[i])
    b = boxes[i].copy()
    ig = ignored[i].copy()
    for a in (b, ig):
        a[:, [1, 3]] += px
        a[:, [2, 4]] += py
    if len(b) and rng.random() < 0.5:
        # Centred near an object (bags favoured): the rare class is seen often.
        wts = np.array([CENTRE_CLASS_WEIGHT[int(c)] for c in b[:, 0]])
        j = int(np.searchsorted(np.cumsum(wts) / wts.sum(), rng.random()))
        j = min(j, len(b) - 1)
        cx, cy = (b[j, 1] + b[j, 3]) / 2, (b[j, 2] + b[j, 4]) / 2
        x0 = int(np.clip(cx - CROP / 2 + rng.uniform(-50, 50), 0, INPUT - CROP)) // STRIDE * STRIDE
        y0 = int(np.clip(cy - CROP / 2 + rng.uniform(-50, 50), 0, INPUT - CROP)) // STRIDE * STRIDE
    else:
        x0 = rng.randrange(0, INPUT - CROP + 1, STRIDE)
        y0 = rng.randrange(0, INPUT - CROP + 1, STRIDE)
    crop = img[y0 : y0 + CROP, x0 : x0 + CROP].astype(np.float32)

    def shift(a):
        a[:, [1, 3]] -= x0
        a[:, [2, 4]] -= y0
        cx = (a[:, 1] + a[:, 3]) / 2
        cy = (a[:, 2] + a[:, 4]) / 2
        a = a[(cx >= 0) & (cx < CROP) & (cy >= 0) & (cy < CROP)]
        a[:, 1:] = np.clip(a[:, 1:], 0, CROP)
        return a

    b, ig = shift(b), shift(ig)
    # Lighting and sensor: exposure, contrast, per-channel tint, noise (the renderer varies
    # these too; jitter widens them so dusk/overcast scenes are not out of distribution).
    if rng.random() < 0.8:
        gain = rng.uniform(0.7, 1.3)
        contrast = rng.uniform(0.75, 1.25)
        tint = np.array([rng.uniform(0.92, 1.08) for _ in range(3)], np.float32)
        m = crop.mean()
        crop = ((crop - m) * contrast + m) * gain * tint
        if rng.random() < 0.5:
            crop = crop + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(1, 6), crop.shape).astype(np.float32)
        crop = np.clip(crop, 0, 255)
    # Top-down view: flips and quarter turns are all plausible frames.
    for flip_x in [rng.random() < 0.5]:
        if flip_x:
            crop = crop[:, ::-1]
            for a in (b, ig):
                a[:, [1, 3]] = CROP - a[:, [3, 1]]
    if rng.random() < 0.5:
        crop = crop[::-1]
        for a in (b, ig):
            a[:, [2, 4]] = CROP - a[:, [4, 2]]
    if rng.random() < 0.5:
        crop = crop.transpose(1, 0, 2)
        b = b[:, [0, 2, 1, 4, 3]]
        ig = ig[:, [0, 2, 1, 4, 3]]
    return np.ascontiguousarray(crop), b, ig


def targets(boxes, ignored, grid):
    """Per-cell class target [nc, g, g], box target [4, g, g] (x0, y0, x1, y1), positive mask
    and class-loss weight [g, g]. Positives: cells whose centre lies in the central half of a
    box (centre sampling), at least the cell holding the box centre. Other cells inside a box
    are ignored by the class loss: they see the object but are not asked to claim it; so are
    the cells of objects mostly outside the frame (no target, no false positive)."""
    cls_t = np.zeros((NC, grid, grid), np.float32)
    box_t = np.zeros((4, grid, grid), np.float32)
    pos = np.zeros((grid, grid), bool)
    weight = np.ones((grid, grid), np.float32)
    area = np.full((grid, grid), np.inf, np.float32)
    centres = (np.arange(grid) + 0.5) * STRIDE
    for _c, x0, y0, x1, y1 in ignored:
        weight[np.searchsorted(centres, y0) : np.searchsorted(centres, y1) + 1, np.searchsorted(centres, x0) : np.searchsorted(centres, x1) + 1] = 0
    for c, x0, y0, x1, y1 in boxes:
        w, h = x1 - x0, y1 - y0
        if w < 1 or h < 1:
            continue
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        gx0, gx1 = np.searchsorted(centres, x0), np.searchsorted(centres, x1)
        gy0, gy1 = np.searchsorted(centres, y0), np.searchsorted(centres, y1)
        weight[gy0:gy1, gx0:gx1] = 0
        inner_x = np.abs(centres - cx) <= max(w / 4, STRIDE / 2)
        inner_y = np.abs(centres - cy) <= max(h / 4, STRIDE / 2)
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


# ---- validation: the same scoring as lib/vision/metrics.ts (VOC all-point AP, IoU 0.5) ----


def nms(boxes, scores, thr):
    order = np.argsort(-scores)
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        if len(order) == 1:
            break
        rest = order[1:]
        ious = box_iou(boxes[i : i + 1], boxes[rest])[0]
        order = rest[ious < thr]
    return keep


def box_iou(a, b):
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    bb = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(aa[:, None] + bb[None, :] - inter, 1e-9)


def decode(out, px, py, score_min=0.05, nms_iou=0.45, max_det=100):
    """out: [4+nc, N] → per-class NMS'd detections (class, score, x0, y0, x1, y1) in frame pixels."""
    cxcywh, sc = out[:4].T, out[4:].T
    cls = sc.argmax(1)
    score = sc.max(1)
    m = score >= score_min
    b = np.stack([cxcywh[:, 0] - cxcywh[:, 2] / 2 - px, cxcywh[:, 1] - cxcywh[:, 3] / 2 - py, cxcywh[:, 0] + cxcywh[:, 2] / 2 - px, cxcywh[:, 1] + cxcywh[:, 3] / 2 - py], 1)[m]
    cls, score = cls[m], score[m]
    dets = []
    for c in range(NC):
        k = np.nonzero(cls == c)[0]
        for i in nms(b[k], score[k], nms_iou):
            dets.append((c, score[k][i], *b[k][i]))
    dets.sort(key=lambda d: -d[1])
    return dets[:max_det]


def average_precision(frames, iou_thr=0.5, min_size=4):
    """frames: [(dets, gt boxes [n,5], ignored boxes [n,5])] → {class: (AP, n_gt)}."""
    res = {}
    for c in range(NC):
        scored, ngt = [], 0
        for dets, gt, ig in frames:
            g = gt[gt[:, 0] == c][:, 1:]
            small = np.maximum(g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]) < min_size
            gi = ig[ig[:, 0] == c][:, 1:]
            allg = np.concatenate([g, gi]) if len(gi) else g
            ign = np.concatenate([small, np.ones(len(gi), bool)])
            ngt += int((~ign).sum())
            used = np.zeros(len(allg), bool)
            for d in (d for d in dets if d[0] == c):
                best, bi = iou_thr, -1
                if len(allg):
                    ious = box_iou(np.array([d[2:]]), allg)[0]
                    for j in np.argsort(-ious):
                        if used[j] or ious[j] < iou_thr:
                            continue
                        best, bi = ious[j], j
                        break
                if bi >= 0:
                    used[bi] = True
                    if not ign[bi]:
                        scored.append((d[1], 1))
                else:
                    scored.append((d[1], 0))
        scored.sort(key=lambda s: -s[0])
        tp = np.cumsum([s[1] for s in scored]) if scored else np.zeros(0)
        fp = np.cumsum([1 - s[1] for s in scored]) if scored else np.zeros(0)
        rec = tp / max(ngt, 1)
        prec = tp / np.maximum(tp + fp, 1)
        mrec = np.concatenate([[0], rec, [1]])
        mpre = np.concatenate([[1], prec, [0]])
        for i in range(len(mpre) - 2, -1, -1):
            mpre[i] = max(mpre[i], mpre[i + 1])
        ap = float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:]))
        res[CLASSES[c]] = (ap, ngt)
    return res


def validate(run, images, boxes, ignored):
    """run: uint8 [1, 3, 320, 320] float → [4+nc, N]."""
    frames = []
    for img, b, ig in zip(images, boxes, ignored):
        lb, px, py = letterbox_np(img)
        x = lb.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        frames.append((decode(run(x), px, py), b, ig))
    return average_precision(frames)


def fmt(res):
    return " ".join(f"{k} {v[0]:.3f} (n={v[1]})" for k, v in res.items())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/kestrel-det-data")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "kestrel-det.onnx"))
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--ckpt", default="/tmp/kestrel-det.pt", help="checkpoint written every 50 steps and at the end")
    ap.add_argument("--resume", action="store_true", help="continue from --ckpt (a new time budget and schedule)")
    ap.add_argument("--init-onnx", default="", help="start from a v1 ONNX export (kestrel-det.onnx of rounds 1-6)")
    ap.add_argument("--mix", default="", help="part:share,... frames drawn per part (rest uniform over all), e.g. s1:0.5,m1:0.35")
    ap.add_argument("--val", default="", help="a dump of held-out frames: report AP50 per class at the end")
    ap.add_argument("--val-frames", type=int, default=150)
    ap.add_argument("--eval-onnx", default="", help="only score this ONNX model on --val")
    ap.add_argument("--export-only", action="store_true", help="export --ckpt to --out without training")
    args = ap.parse_args()

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    torch.backends.nnpack.enabled = False  # unsupported on this CPU: one warning per conv otherwise
    rng = random.Random(SEED)

    val = None
    if args.val:
        vi, vb, vig, _ = load(args.val)
        n = min(args.val_frames, len(vi))
        val = (vi[:n], vb[:n], vig[:n])
    if args.eval_onnx:
        import onnxruntime as ort

        o = ort.SessionOptions()
        o.intra_op_num_threads = args.threads
        s = ort.InferenceSession(args.eval_onnx, o, providers=["CPUExecutionProvider"])
        name = s.get_inputs()[0].name
        print(f"{args.eval_onnx}: {fmt(validate(lambda x: s.run(None, {name: x})[0][0], *val))}", flush=True)
        return

    model = KestrelDet()
    if args.export_only:
        ck = torch.load(args.ckpt)
        model.load_state_dict(ck["model"])
        export(model, args.out, ck["step"], ck.get("frames", 0))
        return
    images, boxes, ignored, parts = load(args.data)
    mix = []
    for item in filter(None, args.mix.split(",")):
        name, share = item.split(":")
        idx = [i for i, p in enumerate(parts) if p == name]
        assert idx, f"--mix: no part '{name}' in {args.data}"
        mix.append((idx, float(share)))
    print(f"{len(images)} frames, {sum(len(b) for b in boxes)} boxes ({', '.join(f'{c} {sum(int((b[:, 0] == i).sum()) for b in boxes)}' for i, c in enumerate(CLASSES))})", flush=True)
    print(f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)
    done = 0
    if args.init_onnx:
        init_from_onnx(model, args.init_onnx, images)
        print(f"initialised from {args.init_onnx}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
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
            crop, b, ig = sample_crop(rng, images, boxes, ignored, pick_frame(rng, len(images), mix))
            ct, bt, pm, wt = targets(b, ig, grid)
            xs.append(crop)
            cts.append(ct)
            bts.append(bt)
            ps.append(pm)
            ws.append(wt)
        x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2) / 255.0
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
    if val is not None:
        model.eval()
        with torch.no_grad():
            print(f"val after step {done + step}: {fmt(validate(lambda x: model(torch.from_numpy(x))[0].numpy(), *val))}", flush=True)


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
        dynamo=False,
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
