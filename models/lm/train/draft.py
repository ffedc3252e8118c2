"""Distils a small draft model from the trained Kestrel LM, for speculative decoding (issue 18).

    python models/lm/train/draft.py --teacher /work/ckpt-js-r3.pt --data models/lm/data/v1 \
        --tokenizer models/lm/tokenizer.model --run models/lm/runs/draft --layers 1 --minutes 12 --threads 2
    python models/lm/train/draft.py --run models/lm/runs/draft --resume --minutes 5 --threads 2

The student has the teacher's tokenizer (so llama.cpp accepts it as a draft: same vocabulary) and is
trained on corpus inputs to match the teacher's next-token distribution: KL(teacher || student) at
temperature --temperature on the output positions (what the draft must predict), plus --ce-weight
times the usual cross-entropy on the reference output. The teacher runs in no_grad. What matters for
a draft is that its greedy choice equals the teacher's, so every eval also reports `agree`: the
fraction of output positions (teacher-forced, val) where student argmax == teacher argmax, an upper
bound on the per-token acceptance llama.cpp sees.

With the teacher's width (--hidden 0 = the teacher's), the student starts from the teacher's
embedding, final norm and the blocks named by --init-layers (default: the first --layers blocks), so
distillation starts near the teacher instead of from noise; a narrower student starts from a fresh
init. Resumable like train.py: <run>/ckpt.pt holds model, AdamW state, step, tokens, data cursor and
rng; the data order is train.py's Batcher (a pure function of seed and pool), so --resume continues
exactly. prune.py fine-tunes its pruned models with the same loop (distil_round).
The checkpoint has train.py's layout, so export.py exports it unchanged (see models/lm/README.md).
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
from train import (Batcher, cached_encode, collate, encode_examples, eval_sets, greedy_exact, lr_at,  # noqa: E402
                   read_jsonl, save_ckpt)


def load_model(path):
    """(model in eval mode, checkpoint dict) from a train.py / draft.py / prune.py checkpoint."""
    ck = torch.load(path, weights_only=False, map_location='cpu')
    m = KestrelLM(Config(**ck['config']))
    m.load_state_dict(ck['model'])
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m, ck


def output_logits(model, x, m, bf16):
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        h = model.hidden(x)[m]
        return F.linear(h, model.embed.weight).float()


def distil_loss(student, teacher, x, y, m, a):
    """(loss, kl, ce, agree count, positions) on the output positions of one batch."""
    with torch.no_grad():
        tl = output_logits(teacher, x, m, a.bf16)
    sl = output_logits(student, x, m, a.bf16)
    T = a.temperature
    kl = F.kl_div(F.log_softmax(sl / T, -1), F.log_softmax(tl / T, -1), log_target=True, reduction='batchmean') * T * T
    ce = F.cross_entropy(sl, y[m])
    agree = int((sl.argmax(-1) == tl.argmax(-1)).sum())
    return kl + a.ce_weight * ce, kl, ce, agree, int(m.sum())


@torch.no_grad()
def distil_eval(student, teacher, examples, a, bs=16):
    """Val KL, CE (the val loss train.py reports) and teacher-argmax agreement, per output token."""
    student.eval()
    kl_t = ce_t = 0.0
    ag = n = 0
    ex = sorted(examples, key=lambda e: len(e[0]))
    for i in range(0, len(ex), bs):
        x, y, m = collate(ex, range(i, min(i + bs, len(ex))))
        _, kl, ce, agree, k = distil_loss(student, teacher, x, y, m, a)
        kl_t += kl.item() * k
        ce_t += ce.item() * k
        ag += agree
        n += k
    student.train()
    return {'val_kl': kl_t / max(n, 1), 'val_loss': ce_t / max(n, 1), 'agree': ag / max(n, 1)}


def add_loop_args(ap):
    """Options of the distillation loop (shared with prune.py)."""
    ap.add_argument('--teacher', help='teacher checkpoint (train.py ckpt.pt)')
    ap.add_argument('--data')
    ap.add_argument('--tokenizer')
    ap.add_argument('--run', required=True)
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--minutes', type=float, default=5, help='wall-clock budget of this round')
    ap.add_argument('--ckpt-minutes', type=float, default=4)
    ap.add_argument('--max-steps', type=int, default=0, help='stop at this global step (smoke runs, tests of --resume)')
    ap.add_argument('--seed', type=int, default=2)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--min-lr-frac', type=float, default=0.1)
    ap.add_argument('--warmup-steps', type=int, default=30)
    ap.add_argument('--total-tokens', type=float, default=3e6, help='cosine horizon in trained tokens')
    ap.add_argument('--batch-tokens', type=int, default=2048)
    ap.add_argument('--weight-decay', type=float, default=0.1)
    ap.add_argument('--intent-frac', type=float, default=0.8)
    ap.add_argument('--temperature', type=float, default=1.0)
    ap.add_argument('--ce-weight', type=float, default=0.0, help='weight of the reference-output cross-entropy')
    ap.add_argument('--val-n', type=int, default=150)
    ap.add_argument('--greedy-n', type=int, default=50, help='val examples for Python greedy exact match (0 = skip)')
    ap.add_argument('--bf16', action='store_true')
    ap.add_argument('--threads', type=int, default=1)


# settings a resumed round keeps from the checkpoint (data order, model, schedule, teacher)
LOOP_FIXED = ['teacher', 'data', 'tokenizer', 'seed', 'lr', 'min_lr_frac', 'warmup_steps', 'batch_tokens', 'weight_decay',
              'intent_frac', 'temperature', 'ce_weight', 'val_n', 'bf16']


def restore_args(a, saved, argv, extra_fixed=()):
    for k in LOOP_FIXED + list(extra_fixed):
        setattr(a, k, saved[k])
    for k in ('total_tokens', 'greedy_n'):
        if '--' + k.replace('_', '-') not in argv:
            setattr(a, k, saved[k])


def distil_round(student, teacher, a, run_dir, ck=None, info=None):
    """One resumable round of distillation of `student` (train mode) from `teacher` into run_dir/ckpt.pt.
    ck: the checkpoint being resumed (its optimizer state, step, cursor, rng). Returns the last log record."""
    os.makedirs(run_dir, exist_ok=True)
    ckpt_path = os.path.join(run_dir, 'ckpt.pt')
    log_path = os.path.join(run_dir, 'log.jsonl')
    sp = spm.SentencePieceProcessor(model_file=a.tokenizer)
    assert sp.get_piece_size() == teacher.c.vocab == student.c.vocab, 'student, teacher and tokenizer vocabularies differ'
    for p in student.parameters():
        p.requires_grad_(True)
    decay = [p for p in student.parameters() if p.dim() >= 2]
    no_decay = [p for p in student.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': a.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    state = {'step': 0, 'tokens': 0, 'loss_tokens': 0, 'cursor': [0, 0], 'train_seconds': 0.0, 'rounds': 0}
    if ck is not None and 'opt' in ck:
        opt.load_state_dict(ck['opt'])
        state = ck['state']
        torch.set_rng_state(ck['torch_rng'])
    train_ex = [e for e in cached_encode(sp, a, 'train.jsonl') if len(e[0]) <= student.c.context]
    val_ex = encode_examples(sp, read_jsonl(os.path.join(a.data, 'val.jsonl')))
    val_set = eval_sets(val_ex, a.val_n, a.intent_frac)
    greedy_set = eval_sets(val_ex, a.greedy_n, a.intent_frac)
    batcher = Batcher(train_ex, a.seed, a.batch_tokens, a.intent_frac)
    print(f'student {student.c.to_dict()} params {student.n_params():,} (teacher {teacher.n_params():,}); '
          f'train {len(train_ex)} val {len(val_ex)}', flush=True)

    def log_eval(train_loss):
        t0 = time.time()
        rec = {'step': state['step'], 'tokens': state['tokens'], 'train_seconds': round(state['train_seconds'], 1),
               'train_loss': train_loss, **distil_eval(student, teacher, val_set, a)}
        if a.greedy_n > 0:
            rec['val_exact'] = greedy_exact(student, greedy_set)[0]
        rec.update({'eval_seconds': round(time.time() - t0, 1), 'params': student.n_params(), 'config': student.c.to_dict(),
                    'tokens_per_s': state['tokens'] / max(state['train_seconds'], 1e-9), **(info or {})})
        with open(log_path, 'a') as f:
            f.write(json.dumps(rec) + '\n')
        print(json.dumps(rec), flush=True)
        return rec

    def save():
        save_ckpt(ckpt_path, student, opt, state, student.c, a)

    start = last = time.time()
    run_loss, run_n = 0.0, 0
    cursor = tuple(state['cursor'])
    student.train()
    while time.time() - start < a.minutes * 60 and not (a.max_steps and state['step'] >= a.max_steps):
        t0 = time.time()
        idx, nxt = batcher.get(cursor)
        x, y, m = collate(train_ex, idx)
        lr = lr_at(a, state['step'], state['tokens'])
        for g in opt.param_groups:
            g['lr'] = lr
        loss, kl, ce, agree, k = distil_loss(student, teacher, x, y, m, a)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        cursor = nxt
        state['cursor'] = list(cursor)
        state['step'] += 1
        state['tokens'] += int(sum(len(train_ex[i][0]) for i in idx))
        state['loss_tokens'] += k
        state['train_seconds'] += time.time() - t0
        run_loss += loss.item()
        run_n += 1
        if state['step'] % 20 == 0:
            print(f"step {state['step']} loss {run_loss / run_n:.4f} kl {kl.item():.4f} ce {ce.item():.4f} agree {agree / k:.3f} "
                  f"lr {lr:.2e} tokens {state['tokens']} {state['tokens'] / state['train_seconds']:.0f} tok/s", flush=True)
        if time.time() - last >= a.ckpt_minutes * 60:
            log_eval(run_loss / max(run_n, 1))
            run_loss, run_n = 0.0, 0
            save()
            last = time.time()
    state['rounds'] += 1
    rec = log_eval(run_loss / run_n if run_n else None)
    save()
    print('saved', ckpt_path, flush=True)
    return rec


def make_student(teacher, a):
    tc = teacher.c
    hidden = a.hidden or tc.hidden
    head_dim = a.head_dim or tc.head_dim
    heads = hidden // head_dim
    ffn = a.ffn or (tc.ffn if hidden == tc.hidden else int(round(2.7 * hidden / 32) * 32))
    c = Config(vocab=tc.vocab, hidden=hidden, layers=a.layers, heads=heads, kv_heads=max(1, heads // a.kv_ratio), ffn=ffn,
               context=tc.context, rope_base=tc.rope_base, eps=tc.eps)
    torch.manual_seed(a.seed)
    s = KestrelLM(c)
    if hidden == tc.hidden and head_dim == tc.head_dim and c.kv_heads == tc.kv_heads and ffn == tc.ffn and tc.layer_heads is None:
        init = [int(i) for i in a.init_layers.split(',')] if a.init_layers else list(range(a.layers))
        assert len(init) == a.layers and all(0 <= i < tc.layers for i in init), f'--init-layers {init} for {a.layers} layers'
        s.embed.load_state_dict(teacher.embed.state_dict())
        s.norm.load_state_dict(teacher.norm.state_dict())
        for j, i in enumerate(init):
            s.blocks[j].load_state_dict(teacher.blocks[i].state_dict())
        print(f'student initialised from the teacher (embedding, norm, blocks {init})', flush=True)
    else:
        print('student shape differs from the teacher: fresh init', flush=True)
    return s


def main(argv):
    ap = argparse.ArgumentParser()
    add_loop_args(ap)
    ap.add_argument('--layers', type=int, default=1)
    ap.add_argument('--hidden', type=int, default=0, help="0 = the teacher's width")
    ap.add_argument('--head-dim', type=int, default=0, help="0 = the teacher's")
    ap.add_argument('--kv-ratio', type=int, default=2)
    ap.add_argument('--ffn', type=int, default=0, help="0 = the teacher's (same width) or 2.7 x hidden")
    ap.add_argument('--init-layers', default='', help="teacher blocks to start from, e.g. '0' (default: the first --layers)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    ckpt_path = os.path.join(a.run, 'ckpt.pt')
    ck = None
    if a.resume:
        ck = torch.load(ckpt_path, weights_only=False)
        restore_args(a, ck['args'], ' '.join(argv), ['layers', 'hidden', 'head_dim', 'kv_ratio', 'ffn', 'init_layers'])
    if not a.teacher or not a.data or not a.tokenizer:
        ap.error('--teacher, --data and --tokenizer are required (or --resume)')
    teacher, _ = load_model(a.teacher)
    if ck is not None:
        student = KestrelLM(Config(**ck['config']))
        student.load_state_dict(ck['model'])
    else:
        student = make_student(teacher, a)
    distil_round(student, teacher, a, a.run, ck, {'teacher': os.path.basename(a.teacher)})


if __name__ == '__main__':
    main(sys.argv[1:])
