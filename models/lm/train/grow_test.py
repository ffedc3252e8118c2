"""Checks train.py's --grow: a deeper model grown from the committed 3-layer GGUF computes exactly what the
GGUF's model computes (the inserted blocks add nothing until trained), and growth refuses to remove layers.
Cheap (seconds, one thread):

    /work/venv/bin/python models/lm/train/grow_test.py
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import Config, KestrelLM  # noqa: E402
from train import grow_from_gguf, load_gguf_weights  # noqa: E402

GGUF = os.path.join(HERE, '..', 'kestrel-lm-f16.gguf')


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    base = dict(vocab=2048, hidden=384, layers=3, heads=6, kv_heads=3, ffn=1024, context=1024)
    src = KestrelLM(Config(**base))
    load_gguf_weights(src, GGUF)
    ids = torch.randint(0, 2048, (2, 40))
    with torch.no_grad():
        want = src(ids)
    for layers in (3, 4, 6, 8):
        dst = KestrelLM(Config(**{**base, 'layers': layers}))
        prov = grow_from_gguf(dst, GGUF)
        with torch.no_grad():
            err = (dst(ids) - want).abs().max().item()
        assert err < 1e-4, f'{layers} layers: grown model differs from the source by {err}'
        assert prov['grown']['source_at'] == sorted({round(i * layers / 3) for i in range(3)}), prov['grown']
        print('ok', layers, 'layers, source blocks at', prov['grown']['source_at'], f'max |diff| {err:.1e}')
    try:
        grow_from_gguf(KestrelLM(Config(**{**base, 'layers': 2})), GGUF)
    except SystemExit as e:
        assert 'growth only adds layers' in str(e), str(e)
    else:
        raise AssertionError('growth to fewer layers accepted')
    print('grow_test: all ok')


if __name__ == '__main__':
    main()
