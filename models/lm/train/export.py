"""Checkpoint -> float32 tensors with GGUF names + manifest, for the TS GGUF writer (models/lm/export.ts).

    python models/lm/train/export.py --run models/lm/runs/main --out models/lm/export \
        --data models/lm/data/v1 --corpus-version v1 [--greedy-n 60] [--fixture models/lm/eval/tokenizer-fixture.jsonl]

Writes <out>/weights.safetensors (torch layout [out, in], row-major: the same bytes as GGUF ne=[in, out]),
<out>/manifest.json (shape, tokenizer pieces/scores/types, metadata) and <out>/greedy.jsonl:
Python greedy outputs on val and heldout examples, which the TS side must reproduce through llama.cpp.
With --fixture also the tokenizer fixture: >= 1,000 corpus strings with their SentencePiece ids.
"""
import argparse
import json
import os
import sys

import numpy as np
import sentencepiece as spm
import torch
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, KestrelLM, greedy, gguf_params  # noqa: E402
from tokenizer import piece_type  # noqa: E402
from train import encode_examples, read_jsonl, EOS  # noqa: E402


def gguf_tensors(model):
    return {k: np.ascontiguousarray(v.detach().float().numpy()) for k, v in gguf_params(model).items()}


def shape_of(cfg):
    """The writer's ModelShape (models/gguf/writer.ts); a pruned model adds its head size and per-layer sizes."""
    shape = {'vocab': cfg.vocab, 'hidden': cfg.hidden, 'layers': cfg.layers, 'heads': cfg.heads, 'kvHeads': cfg.kv_heads,
             'ffn': cfg.ffn, 'contextLength': cfg.context, 'untiedOutput': False}
    if cfg.head_dim * cfg.heads != cfg.hidden or cfg.head_dim_:
        shape['headDim'] = cfg.head_dim
    for key, lst in (('layerHeads', cfg.layer_heads), ('layerKvHeads', cfg.layer_kv_heads), ('layerFfn', cfg.layer_ffn)):
        if lst:
            shape[key] = list(lst)
    return shape


def pick(examples, n, task):
    return [e for e in examples if e[2] == task][:n]


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--run', required=True)
    ap.add_argument('--ckpt', help='checkpoint file (default <run>/ckpt.pt)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--corpus-version', required=True)
    ap.add_argument('--name', default='kestrel-lm')
    ap.add_argument('--greedy-n', type=int, default=60, help='per task and split (0 = no greedy.jsonl)')
    ap.add_argument('--fixture')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    ck = torch.load(a.ckpt or os.path.join(a.run, 'ckpt.pt'), weights_only=False)
    cfg = Config(**ck['config'])
    model = KestrelLM(cfg)
    model.load_state_dict(ck['model'])
    model.eval()
    sp = spm.SentencePieceProcessor(model_file=ck['args']['tokenizer'])
    os.makedirs(a.out, exist_ok=True)
    save_file(gguf_tensors(model), os.path.join(a.out, 'weights.safetensors'))
    n = sp.get_piece_size()
    manifest = {
        'shape': shape_of(cfg),
        'ropeBase': cfg.rope_base, 'eps': cfg.eps,
        'tokenizer': {'pieces': [sp.id_to_piece(i) for i in range(n)], 'scores': [float(sp.get_score(i)) for i in range(n)],
                      'types': [piece_type(sp, i) for i in range(n)], 'bos': 1, 'eos': 2, 'unk': 0},
        'metadata': {'general.name': a.name, 'kestrel.prompt_format': 'kestrel-lm-1', 'kestrel.corpus_version': a.corpus_version,
                     'kestrel.seed': int(ck['args']['seed']), 'kestrel.tasks': 'intent,plan'},
        'training': {**ck['state'], 'params': model.n_params()},
    }
    with open(os.path.join(a.out, 'manifest.json'), 'w', encoding='utf-8') as f:
        json.dump(manifest, f, ensure_ascii=False)

    rows = []
    for split in ('val', 'heldout') if a.greedy_n > 0 else ():
        p = os.path.join(a.data, f'{split}.jsonl')
        if not os.path.exists(p):
            continue
        raw = read_jsonl(p)
        enc = encode_examples(sp, raw)
        for task in ('intent', 'plan'):
            sel = [(r, e) for r, e in zip(raw, enc) if e[2] == task][:a.greedy_n]
            if not sel:
                continue
            prompts = [list(e[0][:e[1]]) for _, e in sel]
            outs = []
            for i in range(0, len(prompts), 32):
                outs += greedy(model, prompts[i:i + 32], EOS, max_new=200)
            for (r, e), o in zip(sel, outs):
                rows.append({'split': split, 'task': task, 'family': r['family'], 'system': r['system'], 'user': r['user'],
                             'output': r['output'], 'greedy': sp.decode(o), 'greedy_ids': o})
    with open(os.path.join(a.out, 'greedy.jsonl'), 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    exact = sum(r['greedy'] == r['output'] for r in rows)
    print(f'exported {a.out}: params {model.n_params():,}; python greedy exact {exact}/{len(rows)}')

    if a.fixture:
        write_fixture(sp, a.data, a.fixture)


def write_fixture(sp, data, path, n=1200):
    """Distinct corpus strings (system, user, output; val + heldout + a few train) with their ids."""
    seen, out = set(), []
    rng = np.random.default_rng(7)
    pools = []
    for split in ('heldout', 'val', 'train'):
        p = os.path.join(data, f'{split}.jsonl')
        if os.path.exists(p):
            rows = read_jsonl(p)
            if split == 'train':
                rows = [rows[i] for i in rng.choice(len(rows), min(2000, len(rows)), replace=False)]
            pools.append(rows)
    per = -(-n // max(len(pools), 1))
    for rows in pools:
        got = 0
        for r in rows:
            for k in ('user', 'output', 'system'):
                s = r[k]
                if s not in seen and got < per:
                    seen.add(s)
                    got += 1
                    out.append({'field': k, 'task': r['task'], 'text': s})
    extra = ['', ' ', '  two  spaces ', 'tab\there', 'naïve café ü €', '日本語', 'emoji 🚁 drone', '\n\n', 'x' * 50, '0.5 -12.3 99999']
    for s in extra:
        out.append({'field': 'edge', 'task': '', 'text': s})
    with open(path, 'w', encoding='utf-8') as f:
        for o in out:
            o['ids'] = sp.encode(o['text'], out_type=int)
            f.write(json.dumps(o, ensure_ascii=False) + '\n')
    print(f'fixture {path}: {len(out)} strings, {os.path.getsize(path) / 1024:.0f} KB')


if __name__ == '__main__':
    main(sys.argv[1:])
