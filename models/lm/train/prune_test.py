"""Checks prune.py's surgery: a pruned model computes exactly what the original computes with the
removed layers skipped, the removed kv groups' heads zeroed and the removed FFN channels masked
(uniform and global allocation), and parse_levels names a bad level. Cheap (a tiny random model):

    /work/venv/bin/python models/lm/train/prune_test.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, KestrelLM  # noqa: E402
from prune import build_pruned, macs_per_token, parse_levels  # noqa: E402


def masked_reference(teacher, plan, ids):
    keep = {p['from_layer']: p for p in plan}
    rep = teacher.c.heads // teacher.c.kv_heads
    for i, b in enumerate(teacher.blocks):
        b.enabled = i in keep
        if i not in keep:
            continue
        gate = torch.zeros(b.attn.heads)
        for g in keep[i]['kv_groups']:
            gate[g * rep:(g + 1) * rep] = 1
        b.attn.head_gate = gate
        mask = torch.zeros(b.ffn.w_up.out_features)
        mask[keep[i]['channels']] = 1
        b.ffn.act_hook = lambda a, m=mask: a * m
    with torch.no_grad():
        out = teacher(ids)
    for b in teacher.blocks:
        b.enabled, b.attn.head_gate, b.ffn.act_hook = True, None, None
    return out


def main():
    torch.manual_seed(0)
    c = Config(vocab=600, hidden=128, layers=3, heads=4, kv_heads=2, ffn=128, context=64)
    t = KestrelLM(c).eval()
    rng = np.random.default_rng(0)
    ffn = rng.random((3, 128))
    ffn[0] *= 10  # layer 0's channels matter most: a global allocation must give it more
    imp = {'layer': [3.0, 0.1, 0.5], 'kv_group': rng.random((3, 2)).tolist(), 'ffn': ffn.tolist()}
    ids = torch.randint(0, 600, (2, 12))
    for opts in ({'layers': 2, 'kv': 1, 'ffn': 64}, {'ffn': 96}, {'layers': 3, 'kv': 1, 'ffn': 64, 'global': 1}):
        s, plan = build_pruned(t, imp, opts)
        s.eval()
        # build_pruned records counts; recover the kept channel indices the same way it chose them
        from prune import allocate, top
        alloc = allocate(imp, top(imp['layer'], opts.get('layers', 3)), opts.get('kv', 2), opts.get('ffn', 128), bool(opts.get('global')))
        for p, (_, ch) in zip(plan, alloc):
            p['channels'] = ch
        with torch.no_grad():
            got = s(ids)
        want = masked_reference(t, plan, ids)
        err = (got - want).abs().max().item()
        assert err < 1e-4, f'{opts}: pruned model differs from the masked original by {err}'
        assert macs_per_token(s.c) < macs_per_token(t.c)
        if opts.get('global'):
            assert s.c.layer_ffn is not None and s.c.layer_ffn[0] > s.c.layer_ffn[1], s.c.layer_ffn
        print('ok', opts, s.c.layer_kv_heads, s.c.layer_ffn, f'{s.n_params():,} params')
    assert parse_levels('a:layers=2;b-1:ffn=64,kv=1,global=1') == [('a', {'layers': 2}), ('b-1', {'ffn': 64, 'kv': 1, 'global': 1})]
    for bad, msg in (('x', 'expected name:'), ('a:heads=2', "'heads=2'"), ('a:ffn=0', "'ffn=0'"), ('a b:ffn=1', "level name 'a b'")):
        try:
            parse_levels(bad)
        except ValueError as e:
            assert msg in str(e), (bad, str(e))
        else:
            raise AssertionError(f'{bad} accepted')
    print('prune_test: all ok')


if __name__ == '__main__':
    main()
