"""Structured pruning of the trained Kestrel LM (issue 18): rank, remove, fine-tune briefly, per level.

    python models/lm/train/prune.py --teacher /work/ckpt-js-r3.pt --data models/lm/data/v1 \
        --tokenizer models/lm/tokenizer.model --run models/lm/runs/prune --minutes 3 --threads 2 --bf16 \
        --levels 'ffn768:ffn=768;l2:layers=2;l2-kv2-ffn640:layers=2,kv=2,ffn=640'

1. Importance (once, cached in <run>/importance.json), on --rank-n train examples (never the val
   examples the levels are scored on), loss = cross-entropy on the output tokens:
   - each layer: the loss increase when the whole block is skipped (ablation);
   - each kv group of each layer (one kv head and the query heads that read it, the unit GQA lets us
     remove): the loss increase when those heads' outputs are zeroed (ablation);
   - each FFN channel: first-order Taylor |a * dL/da| summed over the tokens (one backward pass;
     ablating 3 x 1024 channels one by one would take hours here).
2. Per level (`name:layers=L,kv=K,ffn=F[,global=1]`, any subset): keep the L most important layers
   (in order), the K most important kv groups per layer and the F most important FFN channels per
   layer. With global=1 the same totals (K x L groups, F x L channels) are allocated across layers by
   importance instead (at least one group and 32 channels a layer, widths rounded to 32): the GGUF is
   then written as llama.cpp's `deci` architecture, which sizes each layer on its own (the llama
   architecture sizes every layer from layer 0's head count and FFN length; models/gguf/writer.ts).
3. Fine-tune each level with draft.py's distillation loop (KL to the unpruned model's logits) for
   --minutes, resumable per level (<run>/<level>/ckpt.pt; --resume continues each level's round).
   Each level's log has val loss, teacher-argmax agreement and val greedy exact before and after.
<run>/summary.json: the unpruned reference and every level (params, multiply-adds per token).
Export a level with export.py --ckpt <run>/<level>/ckpt.pt, like any checkpoint.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, KestrelLM  # noqa: E402
from train import cached_encode, collate, encode_examples, eval_sets, greedy_exact, read_jsonl  # noqa: E402
from draft import add_loop_args, distil_eval, distil_round, load_model, restore_args  # noqa: E402


def parse_levels(spec):
    """'name:layers=2,kv=2,ffn=640;name2:ffn=768' -> [(name, {'layers': 2, ...})]; ValueError naming the bad part."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(';'))):
        if ':' not in part:
            raise ValueError(f"level '{part}': expected name:key=value,...")
        name, kvs = part.split(':', 1)
        if not name or not all(ch.isalnum() or ch in '-_' for ch in name):
            raise ValueError(f"level name '{name}': letters, digits, - and _ only")
        opts = {}
        for kv in filter(None, kvs.split(',')):
            k, _, v = kv.partition('=')
            if k not in ('layers', 'kv', 'ffn', 'global') or not v.isdigit() or int(v) < (0 if k == 'global' else 1):
                raise ValueError(f"level '{name}': '{kv}' (keys layers, kv, ffn with a positive integer; global=1)")
            opts[k] = int(v)
        out.append((name, opts))
    if not out:
        raise ValueError('no levels')
    return out


def macs_per_token(c):
    """Multiply-adds of one decode step (matrices only; the tied output head included, attention scores not)."""
    hd = c.head_dim
    total = c.vocab * c.hidden
    for i in range(c.layers):
        h, kv, f = c.heads_at(i), c.kv_heads_at(i), c.ffn_at(i)
        total += c.hidden * hd * (2 * h + 2 * kv) + 3 * c.hidden * f
    return total


def ce_loss(model, batches, bf16):
    tot = n = 0.0
    with torch.no_grad():
        for x, y, m in batches:
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
                lg = F.linear(model.hidden(x)[m], model.embed.weight).float()
            tot += F.cross_entropy(lg, y[m], reduction='sum').item()
            n += int(m.sum())
    return tot / max(n, 1)


def importance(model, batches, bf16):
    c = model.c
    base = ce_loss(model, batches, bf16)
    layers = []
    for b in model.blocks:
        b.enabled = False
        layers.append(ce_loss(model, batches, bf16) - base)
        b.enabled = True
    groups = []
    for b in model.blocks:
        at = b.attn
        rep = at.heads // at.kv_heads
        row = []
        for g in range(at.kv_heads):
            gate = torch.ones(at.heads)
            gate[g * rep:(g + 1) * rep] = 0
            at.head_gate = gate
            row.append(ce_loss(model, batches, bf16) - base)
        at.head_gate = None
        groups.append(row)
    # Taylor: |a * dL/da| per channel, summed over tokens (fp32: bf16 gradients are too coarse for this)
    scores = [torch.zeros(c.ffn_at(i)) for i in range(c.layers)]
    acts = [None] * c.layers

    def hook(i):
        def f(a):
            a.retain_grad()
            acts[i] = a
            return a
        return f
    for i, b in enumerate(model.blocks):
        b.ffn.act_hook = hook(i)
    for p in model.parameters():
        p.requires_grad_(True)
    for x, y, m in batches:
        model.zero_grad(set_to_none=True)
        lg = F.linear(model.hidden(x)[m], model.embed.weight)
        F.cross_entropy(lg, y[m], reduction='sum').backward()
        for i, a in enumerate(acts):
            scores[i] += (a * a.grad).abs().sum(dim=(0, 1)).detach()
    for b in model.blocks:
        b.ffn.act_hook = None
    for p in model.parameters():
        p.requires_grad_(False)
    return {'base_loss': base, 'layer': layers, 'kv_group': groups, 'ffn': [s.tolist() for s in scores]}


def top(scores, k):
    """Indices of the k largest scores, in ascending index order."""
    return sorted(int(i) for i in np.argsort(-np.asarray(scores), kind='stable')[:k])


def allocate(imp, keep_layers, K, Fk, glob):
    """Per kept layer: (kv groups kept, FFN channels kept), uniform or allocated globally by importance."""
    if not glob:
        return [(top(imp['kv_group'][i], K), top(imp['ffn'][i], Fk)) for i in keep_layers]
    L = len(keep_layers)
    g_all = sorted(((imp['kv_group'][i][g], j, g) for j, i in enumerate(keep_layers) for g in range(len(imp['kv_group'][i]))), reverse=True)
    groups = [[top(imp['kv_group'][i], 1)[0]] for i in keep_layers]  # every layer keeps its best group
    for _, j, g in g_all:
        if sum(len(x) for x in groups) >= K * L:
            break
        if g not in groups[j]:
            groups[j].append(g)
    f_all = np.concatenate([np.asarray(imp['ffn'][i]) for i in keep_layers])
    thresh = np.sort(f_all)[::-1][min(Fk * L, len(f_all)) - 1]
    chans = []
    for i in keep_layers:
        sc = np.asarray(imp['ffn'][i])
        n = int(min(len(sc), max(32, round(int((sc >= thresh).sum()) / 32) * 32)))
        chans.append(top(sc, n))
    return [(sorted(g), ch) for g, ch in zip(groups, chans)]


def build_pruned(teacher, imp, opts):
    """A new model holding the kept layers, kv groups and FFN channels of `teacher` (weights copied)."""
    tc = teacher.c
    assert tc.layer_heads is None and tc.layer_ffn is None, 'prune a uniform model'
    L = opts.get('layers', tc.layers)
    K = opts.get('kv', tc.kv_heads)
    Fk = opts.get('ffn', tc.ffn)
    if not (L <= tc.layers and K <= tc.kv_heads and Fk <= tc.ffn):
        raise ValueError(f'level {opts} exceeds the model ({tc.layers} layers, {tc.kv_heads} kv heads, FFN {tc.ffn})')
    rep = tc.heads // tc.kv_heads
    hd = tc.head_dim
    keep_layers = top(imp['layer'], L)
    alloc = allocate(imp, keep_layers, K, Fk, bool(opts.get('global')))
    kvs = [len(g) for g, _ in alloc]
    ffns = [len(ch) for _, ch in alloc]
    uniform = len(set(kvs)) == 1 and len(set(ffns)) == 1
    c = Config(vocab=tc.vocab, hidden=tc.hidden, layers=L, heads=kvs[0] * rep, kv_heads=kvs[0], ffn=ffns[0], context=tc.context,
               rope_base=tc.rope_base, eps=tc.eps, head_dim_=hd if (kvs[0] * rep * hd != tc.hidden or not uniform) else 0,
               layer_heads=None if uniform else [k * rep for k in kvs], layer_kv_heads=None if uniform else kvs,
               layer_ffn=None if uniform else ffns)
    s = KestrelLM(c)
    s.embed.load_state_dict(teacher.embed.state_dict())
    s.norm.load_state_dict(teacher.norm.state_dict())
    plan = []
    for j, (i, (groups, chans)) in enumerate(zip(keep_layers, alloc)):
        src, dst = teacher.blocks[i], s.blocks[j]
        qh = [g * rep + r for g in groups for r in range(rep)]
        qrows = torch.tensor([h * hd + d for h in qh for d in range(hd)])
        kvrows = torch.tensor([g * hd + d for g in groups for d in range(hd)])
        ch = torch.tensor(chans)
        with torch.no_grad():
            dst.attn_norm.weight.copy_(src.attn_norm.weight)
            dst.ffn_norm.weight.copy_(src.ffn_norm.weight)
            dst.attn.wq.weight.copy_(src.attn.wq.weight[qrows])
            dst.attn.wk.weight.copy_(src.attn.wk.weight[kvrows])
            dst.attn.wv.weight.copy_(src.attn.wv.weight[kvrows])
            dst.attn.wo.weight.copy_(src.attn.wo.weight[:, qrows])
            dst.ffn.w_gate.weight.copy_(src.ffn.w_gate.weight[ch])
            dst.ffn.w_up.weight.copy_(src.ffn.w_up.weight[ch])
            dst.ffn.w_down.weight.copy_(src.ffn.w_down.weight[:, ch])
        plan.append({'from_layer': i, 'kv_groups': groups, 'ffn_channels': len(chans)})
    return s, plan


def main(argv):
    ap = argparse.ArgumentParser()
    add_loop_args(ap)
    ap.add_argument('--levels', default='ffn768:ffn=768;l2:layers=2;l2-kv2-ffn640:layers=2,kv=2,ffn=640')
    ap.add_argument('--rank-n', type=int, default=300, help='train examples the importance is measured on')
    ap.add_argument('--only', default='', help='comma-separated level names to run (default all)')
    ap.set_defaults(lr=5e-4, warmup_steps=20, total_tokens=6e5, minutes=3)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    levels = parse_levels(a.levels)
    os.makedirs(a.run, exist_ok=True)
    if not a.teacher or not a.data or not a.tokenizer:
        ap.error('--teacher, --data and --tokenizer are required')
    teacher, _ = load_model(a.teacher)
    sp = spm.SentencePieceProcessor(model_file=a.tokenizer)

    imp_path = os.path.join(a.run, 'importance.json')
    if os.path.exists(imp_path):
        with open(imp_path) as f:
            imp = json.load(f)
        print(f'importance from {imp_path}', flush=True)
    else:
        t0 = time.time()
        train_ex = cached_encode(sp, a, 'train.jsonl')
        rng = np.random.default_rng([a.seed, 99])
        pick = sorted(rng.choice(len(train_ex), a.rank_n, replace=False), key=lambda i: len(train_ex[i][0]))
        batches = [collate(train_ex, pick[i:i + 16]) for i in range(0, len(pick), 16)]
        ranker, _ = load_model(a.teacher)
        imp = importance(ranker, batches, a.bf16)
        imp['rank_n'] = a.rank_n
        imp['seconds'] = round(time.time() - t0, 1)
        with open(imp_path, 'w') as f:
            json.dump(imp, f)
        print(f"importance in {imp['seconds']} s: base loss {imp['base_loss']:.4f}, layer {np.round(imp['layer'], 4).tolist()}, "
              f"kv group {np.round(imp['kv_group'], 4).tolist()}", flush=True)

    sum_path = os.path.join(a.run, 'summary.json')
    summary = json.load(open(sum_path)) if os.path.exists(sum_path) else {}
    val_ex = encode_examples(sp, read_jsonl(os.path.join(a.data, 'val.jsonl')))
    val_set = eval_sets(val_ex, a.val_n, a.intent_frac)
    greedy_set = eval_sets(val_ex, a.greedy_n, a.intent_frac)

    def score(model):
        r = distil_eval(model, teacher, val_set, a)
        if a.greedy_n > 0:
            r['val_exact'] = greedy_exact(model, greedy_set)[0]
        return r
    if 'full' not in summary:
        summary['full'] = {'params': teacher.n_params(), 'macs_per_token': macs_per_token(teacher.c), **score(teacher)}
    only = set(filter(None, a.only.split(',')))
    for name, opts in levels:
        if only and name not in only:
            continue
        d = os.path.join(a.run, name)
        ckpt = os.path.join(d, 'ckpt.pt')
        ck = None
        if os.path.exists(ckpt):
            if not a.resume:
                print(f'{name}: {ckpt} exists (--resume continues it); skipped', flush=True)
                continue
            ck = torch.load(ckpt, weights_only=False)
            restore_args(a, ck['args'], ' '.join(argv))
            student = KestrelLM(Config(**ck['config']))
            student.load_state_dict(ck['model'])
            plan = summary.get(name, {}).get('plan')
        else:
            student, plan = build_pruned(teacher, imp, opts)
            summary[name] = {'opts': opts, 'plan': plan, 'params': student.n_params(), 'macs_per_token': macs_per_token(student.c),
                             'before_finetune': score(student)}
            print(f"{name}: {opts} params {student.n_params():,}, before fine-tune {summary[name]['before_finetune']}", flush=True)
        rec = distil_round(student, teacher, a, d, ck, {'level': name, 'opts': opts})
        summary[name] = {**summary.get(name, {}), 'plan': plan, 'after_finetune': {k: rec[k] for k in ('val_kl', 'val_loss', 'agree', 'val_exact', 'step', 'tokens') if k in rec}}
        with open(sum_path, 'w') as f:
            json.dump(summary, f, indent=1)
    with open(sum_path, 'w') as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
