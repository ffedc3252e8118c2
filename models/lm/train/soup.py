"""Averages a checkpoint's weights with a committed F16 GGUF's (a model soup of two rounds from one start).

    python models/lm/train/soup.py --ckpt models/lm/runs/r9/ckpt.pt --gguf models/lm/kestrel-lm-f16.gguf \
        --alpha 0.5 --out models/lm/runs/soup/ckpt.pt

alpha is the checkpoint's share. The output is a checkpoint export.py reads (its optimizer state is
dropped: a soup is exported, not trained on). Why: rounds fine-tuned from the committed model on a new
corpus learn its structures and forget some of the old; averaging two such rounds of one start is the
cheap way between them (Wortsman et al. 2022, "Model soups").
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from model import Config, KestrelLM  # noqa: E402
from train import load_gguf_weights  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', required=True)
    ap.add_argument('--gguf', required=True)
    ap.add_argument('--alpha', type=float, default=0.5)
    ap.add_argument('--out', required=True)
    a = ap.parse_args(argv)
    ck = torch.load(a.ckpt, weights_only=False)
    cfg = Config(**ck['config'])
    base = KestrelLM(cfg)
    prov = load_gguf_weights(base, a.gguf)
    other = base.state_dict()
    mixed = {k: a.alpha * v.float() + (1 - a.alpha) * other[k].float() for k, v in ck['model'].items()}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    state = {**ck['state'], 'soup': {'ckpt': a.ckpt, 'alpha': a.alpha, 'with': prov}}
    torch.save({'model': mixed, 'state': state, 'config': ck['config'], 'args': ck['args']}, a.out)
    print(f'wrote {a.out}: {a.alpha} x {a.ckpt} + {1 - a.alpha:g} x {a.gguf}')


if __name__ == '__main__':
    main(sys.argv[1:])
