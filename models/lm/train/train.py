"""Trains the Kestrel LM on CPU in resumable rounds (LM-SPEC "Model").

    nice -n 5 python models/lm/train/train.py --data models/lm/data/v1 --tokenizer models/lm/tokenizer.model \
        --run models/lm/runs/main --hidden 192 --layers 14 --minutes 45          # round 1
    nice -n 5 python models/lm/train/train.py --run models/lm/runs/main --resume --minutes 30   # round 2

Sequences are [BOS] + sp(system) + sp(user) + sp(output) + [EOS], the three strings tokenized
separately (what the engine feeds llama.cpp); the loss covers output + EOS only. Batches are
length-bucketed (a pool of examples sorted by length, cut into batches under a token budget,
padded to the batch maximum) with intent:plan mixed about 2:1. The data order is a pure function
of (seed, pool number), so the data cursor is just (pool, batch): --resume continues exactly.
AdamW, linear warmup then cosine decay over --total-tokens (the schedule horizon; a round that
stops early simply stops on the curve, the next round continues it).

Every --ckpt-minutes and at the end: checkpoint (model, optimizer, step, tokens, cursor, rng)
and a log line with train loss, val loss and val greedy exact match (Python greedy decoding on
--greedy-n val examples) in <run>/log.jsonl.
"""
import argparse
import json
import math
import os
import sys
import signal
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, KestrelLM, greedy, gguf_params  # noqa: E402

BOS, EOS = 1, 2


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def encode_examples(sp, rows):
    """-> list of (ids, prompt_len, task); ids = BOS + sys + user + out + EOS."""
    out = []
    for r in rows:
        s = sp.encode(r['system'], out_type=int)
        u = sp.encode(r['user'], out_type=int)
        o = sp.encode(r['output'], out_type=int)
        out.append((np.array([BOS] + s + u + o + [EOS], dtype=np.int32), 1 + len(s) + len(u), r['task']))
    return out


def cached_encode(sp, args, name):
    """Encoded split, cached beside the runs (keyed by data file and tokenizer; 256k rows take ~1 min to encode)."""
    import hashlib
    import pickle
    path = os.path.join(args.data, name)
    st = os.stat(path)
    key = hashlib.sha1(f'{os.path.realpath(path)}|{st.st_size}|{st.st_mtime}|{open(args.tokenizer, "rb").read().hex()}'.encode()).hexdigest()[:16]
    cache = os.path.join(os.path.dirname(os.path.abspath(args.run)), f'.enc-{name}-{key}.pkl')
    if os.path.exists(cache):
        with open(cache, 'rb') as f:
            return pickle.load(f)
    ex = encode_examples(sp, read_jsonl(path))
    with open(cache + '.tmp', 'wb') as f:
        pickle.dump(ex, f)
    os.replace(cache + '.tmp', cache)
    return ex


class Batcher:
    """Deterministic length-bucketed batches: pool k is drawn from rng(seed, k)."""

    def __init__(self, examples, seed, batch_tokens, intent_frac, pool_size=4096):
        self.ex = examples
        self.seed = seed
        self.batch_tokens = batch_tokens
        self.intent_frac = intent_frac
        self.pool_size = pool_size
        self.by_task = {t: np.array([i for i, e in enumerate(examples) if e[2] == t]) for t in ('intent', 'plan')}
        self.pool = -1
        self.batches = []

    def _make_pool(self, k):
        rng = np.random.default_rng([self.seed, k])
        tasks = [t for t in ('intent', 'plan') if len(self.by_task[t])]
        if len(tasks) == 2:
            is_intent = rng.random(self.pool_size) < self.intent_frac
            n_i = int(is_intent.sum())
            idx = np.concatenate([rng.choice(self.by_task['intent'], n_i), rng.choice(self.by_task['plan'], self.pool_size - n_i)])
        else:
            idx = rng.choice(self.by_task[tasks[0]], self.pool_size)
        lens = np.array([len(self.ex[i][0]) for i in idx])
        idx = idx[np.argsort(lens, kind='stable')]
        batches, cur, cur_max = [], [], 0
        for i in idx:
            n = len(self.ex[i][0])
            m = max(cur_max, n)
            if cur and m * (len(cur) + 1) > self.batch_tokens:
                batches.append(cur)
                cur, m = [], n
            cur.append(i)
            cur_max = m
        if cur:
            batches.append(cur)
        order = rng.permutation(len(batches))
        return [batches[j] for j in order]

    def get(self, cursor):
        """Batch at cursor (pool, j) and the next cursor."""
        k, j = cursor
        if self.pool != k:
            self.batches = self._make_pool(k)
            self.pool = k
        b = self.batches[j]
        nxt = (k, j + 1) if j + 1 < len(self.batches) else (k + 1, 0)
        return b, nxt


def collate(examples, idx):
    seqs = [examples[i] for i in idx]
    T = max(len(s[0]) for s in seqs) - 1
    x = torch.zeros(len(seqs), T, dtype=torch.long)
    y = torch.zeros(len(seqs), T, dtype=torch.long)
    m = torch.zeros(len(seqs), T, dtype=torch.bool)
    for r, (ids, p, _) in enumerate(seqs):
        t = torch.from_numpy(ids.astype(np.int64))
        n = len(ids) - 1
        x[r, :n] = t[:-1]
        y[r, :n] = t[1:]
        m[r, p - 1:n] = True  # targets = output tokens + EOS
    return x, y, m


def loss_fn(model, x, y, m, bf16, hidden=None):
    # the output head only on loss positions: a plan's prompt is ~85% of its tokens
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        h = (hidden or model.hidden)(x)[m]
        logits = F.linear(h, model.embed.weight)
    return F.cross_entropy(logits.float(), y[m])


def lr_at(a, step, tokens):
    if step < a.warmup_steps:
        return a.lr * (step + 1) / a.warmup_steps
    frac = min(1.0, tokens / a.total_tokens)
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * frac)))


def eval_sets(examples, n, intent_frac):
    """The first n*intent_frac intents and the rest plans, in file order: fixed across runs."""
    ni = round(n * intent_frac)
    intents = [e for e in examples if e[2] == 'intent'][:ni]
    plans = [e for e in examples if e[2] == 'plan'][: n - ni]
    return intents + plans


@torch.no_grad()
def val_loss(model, examples, bf16, bs=16):
    model.eval()
    tot, cnt = 0.0, 0
    ex = sorted(examples, key=lambda e: len(e[0]))
    for i in range(0, len(ex), bs):
        x, y, m = collate(ex, range(i, min(i + bs, len(ex))))
        l = loss_fn(model, x, y, m, bf16)
        k = int(m.sum())
        tot += l.item() * k
        cnt += k
    model.train()
    return tot / max(cnt, 1)


@torch.no_grad()
def greedy_exact(model, examples, bs=32):
    """Fraction of examples whose greedy output (to EOS) equals the reference, per task."""
    hits = {'intent': [0, 0], 'plan': [0, 0]}
    outs = []
    for i in range(0, len(examples), bs):
        chunk = examples[i:i + bs]
        prompts = [list(e[0][:e[1]]) for e in chunk]
        maxn = max(len(e[0]) - e[1] for e in chunk) + 8
        got = greedy(model, prompts, EOS, max_new=maxn)
        for e, g in zip(chunk, got):
            ok = g == list(e[0][e[1]:-1])
            hits[e[2]][0] += ok
            hits[e[2]][1] += 1
            outs.append(g)
    model.train()
    res = {t: (h / n if n else None) for t, (h, n) in hits.items()}
    n_all = sum(n for _, n in hits.values())
    res['all'] = sum(h for h, _ in hits.values()) / max(n_all, 1)
    return res, outs


def save_ckpt(path, model, opt, state, cfg, args):
    tmp = path + '.tmp'
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'state': state, 'config': cfg.to_dict(),
                'args': vars(args), 'torch_rng': torch.get_rng_state()}, tmp)
    os.replace(tmp, path)


def load_gguf_weights(model, path):
    """Copies a Kestrel GGUF's tensors (F16/F32, the names export.py writes) into model; -> provenance for the log."""
    import hashlib
    from gguf import GGUFReader
    r = GGUFReader(path)
    names = gguf_params(model)
    got = {t.name: t for t in r.tensors}
    if set(got) != set(names):
        raise SystemExit(f'{path}: tensors {sorted(set(got) ^ set(names))} differ from the model built from the args')
    with torch.no_grad():
        for n, p in names.items():
            t = got[n]
            if t.tensor_type.name not in ('F16', 'F32'):
                raise SystemExit(f'{path}: {n} is {t.tensor_type.name}; start from the F16 file')
            a = torch.from_numpy(np.array(t.data, dtype=np.float32)).reshape(p.shape)
            p.copy_(a)
    return {'gguf': os.path.basename(path), 'sha256': hashlib.sha256(open(path, 'rb').read()).hexdigest()[:16]}


def grow_from_gguf(model, path):
    """Starts a deeper model from a shallower committed GGUF without changing what it computes: source block i
    goes to block round(i * L / S) and every block between is a copy of the block before it with its two output
    projections (attn_output, ffn_down) zeroed, so it adds nothing to the residual stream until training moves
    them (function-preserving growth, as in Net2Net / progressive stacking: the deeper model starts at the
    committed model's loss instead of from scratch, which a CPU round could not afford). -> provenance."""
    from gguf import GGUFReader
    src_layers = 1 + max(int(t.name.split('.')[1]) for t in GGUFReader(path).tensors if t.name.startswith('blk.'))
    dst_layers = len(model.blocks)
    if src_layers > dst_layers:
        raise SystemExit(f'{path}: {src_layers} layers, more than --layers {dst_layers}; growth only adds layers')
    src = KestrelLM(Config(**{**model.c.to_dict(), 'layers': src_layers}))
    prov = load_gguf_weights(src, path)
    at = {round(i * dst_layers / src_layers): i for i in range(src_layers)}
    with torch.no_grad():
        model.embed.weight.copy_(src.embed.weight)
        model.norm.weight.copy_(src.norm.weight)
        last = 0
        for j, b in enumerate(model.blocks):
            last = at.get(j, last)
            b.load_state_dict(src.blocks[last].state_dict())
            if j not in at:
                b.attn.wo.weight.zero_()
                b.ffn.w_down.weight.zero_()
    return {**prov, 'grown': {'from_layers': src_layers, 'to_layers': dst_layers, 'source_at': sorted(at)}}


def build_parser():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data')
    ap.add_argument('--tokenizer')
    ap.add_argument('--run', required=True)
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--minutes', type=float, default=5)
    ap.add_argument('--cpu-minutes', type=float, default=0,
                    help='also stop after this much process CPU time (fair comparisons on a shared machine)')
    ap.add_argument('--ckpt-minutes', type=float, default=5)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--hidden', type=int, default=192)
    ap.add_argument('--layers', type=int, default=14)
    ap.add_argument('--head-dim', type=int, default=32)
    ap.add_argument('--kv-ratio', type=int, default=2, help='query heads per kv head')
    ap.add_argument('--ffn', type=int, default=0, help='0 = 2.7 x hidden rounded to 32')
    ap.add_argument('--context', type=int, default=1024)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--min-lr-frac', type=float, default=0.1)
    ap.add_argument('--warmup-steps', type=int, default=60)
    ap.add_argument('--total-tokens', type=float, default=6e6, help='cosine horizon in trained tokens')
    ap.add_argument('--batch-tokens', type=int, default=4096)
    ap.add_argument('--weight-decay', type=float, default=0.1)
    ap.add_argument('--intent-frac', type=float, default=2 / 3)
    ap.add_argument('--val-n', type=int, default=150)
    ap.add_argument('--greedy-n', type=int, default=100)
    # not FIXED: autocast changes only the compute type (master weights stay fp32), so a resumed round may switch
    ap.add_argument('--bf16', action='store_true', help='bf16 autocast; fast only where the CPU has avx512_bf16 or AMX')
    ap.add_argument('--compile', action='store_true', help='torch.compile the training forward (inductor, dynamic shapes)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--eval-only', action='store_true')
    ap.add_argument('--max-steps', type=int, default=0, help='stop the round at this global step (tests of --resume)')
    ap.add_argument('--init-gguf', help='start a new run from the weights of a committed F16 GGUF (models/lm/kestrel-lm-f16.gguf): '
                    'an earlier round\'s checkpoint lives outside git, the GGUF is its committed copy; the optimizer '
                    'starts fresh (warmup again) and step and tokens count this round')
    ap.add_argument('--grow', action='store_true', help='with --init-gguf: --layers may exceed the GGUF\'s; the new '
                    'blocks start as identities (grow_from_gguf)')
    ap.add_argument('--init-ckpt', help='start a new run (new data, schedule, optimizer) from the model weights of another '
                    "run's ckpt.pt: moves a model to a new corpus version without the F16 rounding of --init-gguf")
    ap.add_argument('--stop-at-horizon', action='store_true', help='end the round once --total-tokens are trained (the cosine has annealed)')
    return ap


# settings a resumed round keeps from the checkpoint (data order, model, schedule)
FIXED = ['data', 'tokenizer', 'seed', 'hidden', 'layers', 'head_dim', 'kv_ratio', 'ffn', 'context', 'lr', 'min_lr_frac',
         'warmup_steps', 'batch_tokens', 'weight_decay', 'intent_frac', 'val_n']


def cpu_has_bf16():
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return True  # unknown: take the flag as given
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


def main(argv):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.bf16 and not cpu_has_bf16():
        # measured on a 2-core AVX-512 machine without avx512_bf16: a 6 x 384 step took 2.7 s in bf16, 1.2 s in fp32
        print('warning: --bf16 on a CPU without avx512_bf16/amx_bf16 emulates bf16 and runs about 2x slower than fp32',
              flush=True)
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, 'ckpt.pt')
    ck = None
    if args.resume or args.eval_only:
        ck = torch.load(ckpt_path, weights_only=False)
        saved = ck['args']
        for k in FIXED:
            setattr(args, k, saved[k])
        if '--total-tokens' not in ' '.join(argv):
            args.total_tokens = saved['total_tokens']
        if '--greedy-n' not in ' '.join(argv):
            args.greedy_n = saved['greedy_n']
    torch.manual_seed(args.seed)
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    ffn = args.ffn or int(round(2.7 * args.hidden / 32) * 32)
    cfg = Config(vocab=sp.get_piece_size(), hidden=args.hidden, layers=args.layers, heads=args.hidden // args.head_dim,
                 kv_heads=args.hidden // args.head_dim // args.kv_ratio, ffn=ffn, context=args.context)
    model = KestrelLM(cfg)
    hidden = torch.compile(model.hidden, dynamic=True) if args.compile else None
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    state = {'step': 0, 'tokens': 0, 'loss_tokens': 0, 'cursor': [0, 0], 'train_seconds': 0.0, 'rounds': 0}
    if ck is not None:
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        state = ck['state']
        torch.set_rng_state(ck['torch_rng'])
    elif args.init_ckpt:
        model.load_state_dict(torch.load(args.init_ckpt, weights_only=False)['model'])
        state['init'] = args.init_ckpt
        print(f'init from {args.init_ckpt}', flush=True)
    elif args.init_gguf and args.grow:
        state['init'] = grow_from_gguf(model, args.init_gguf)
        print(f"grown from {args.init_gguf}: {state['init']}", flush=True)
    elif args.init_gguf:
        state['init'] = load_gguf_weights(model, args.init_gguf)
        print(f"init from {args.init_gguf}: {state['init']}", flush=True)

    t_load = time.time()
    train_ex = [e for e in cached_encode(sp, args, 'train.jsonl') if len(e[0]) <= cfg.context]
    val_ex = encode_examples(sp, read_jsonl(os.path.join(args.data, 'val.jsonl')))
    val_loss_set = eval_sets(val_ex, args.val_n, args.intent_frac)
    val_greedy_set = eval_sets(val_ex, args.greedy_n, args.intent_frac)
    batcher = Batcher(train_ex, args.seed, args.batch_tokens, args.intent_frac)
    mean_len = float(np.mean([len(e[0]) for e in train_ex]))
    print(f'config {cfg.to_dict()} params {model.n_params():,} train {len(train_ex)} (mean {mean_len:.0f} tokens) '
          f'val {len(val_ex)}; data {time.time() - t_load:.1f}s', flush=True)
    log_path = os.path.join(args.run, 'log.jsonl')

    def log_eval(train_loss):
        t0 = time.time()
        vl = val_loss(model, val_loss_set, args.bf16)
        ge, _ = greedy_exact(model, val_greedy_set) if args.greedy_n > 0 else ({}, None)
        rec = {'step': state['step'], 'tokens': state['tokens'], 'train_seconds': round(state['train_seconds'], 1),
               'train_loss': train_loss, 'val_loss': vl, 'val_exact': ge, 'eval_seconds': round(time.time() - t0, 1),
               'bf16': args.bf16, 'params': model.n_params(), 'config': cfg.to_dict(),
               'tokens_per_s': state['tokens'] / max(state['train_seconds'], 1e-9),
               'cpu_seconds': round(state.get('cpu_seconds', 0.0), 1),
               'tokens_per_cpu_s': state['tokens'] / max(state.get('cpu_seconds', 0.0), 1e-9)}
        with open(log_path, 'a') as f:
            f.write(json.dumps(rec) + '\n')
        print(json.dumps(rec), flush=True)
        return rec

    if args.eval_only:
        log_eval(None)
        return

    round_start = time.time()
    last_ckpt = time.time()
    budget = args.minutes * 60
    run_loss, run_n = 0.0, 0
    model.train()
    cursor = tuple(state['cursor'])
    cpu_start = time.process_time()
    # SIGTERM/SIGINT end the round after the current step, evaluated and checkpointed like a timed end.
    stop = {'sig': None}

    def on_signal(sig, _frame):
        stop['sig'] = sig
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    while time.time() - round_start < budget and not (args.max_steps and state['step'] >= args.max_steps) \
            and not (args.cpu_minutes and time.process_time() - cpu_start >= args.cpu_minutes * 60) \
            and not (args.stop_at_horizon and state['tokens'] >= args.total_tokens) and stop['sig'] is None:
        t0 = time.time()
        c0 = time.process_time()
        idx, nxt = batcher.get(cursor)
        x, y, m = collate(train_ex, idx)
        lr = lr_at(args, state['step'], state['tokens'])
        for g in opt.param_groups:
            g['lr'] = lr
        loss = loss_fn(model, x, y, m, args.bf16, hidden)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        cursor = nxt
        state['cursor'] = list(cursor)
        state['step'] += 1
        state['tokens'] += int(sum(len(train_ex[i][0]) for i in idx))
        state['loss_tokens'] += int(m.sum())
        state['train_seconds'] += time.time() - t0
        state['cpu_seconds'] = state.get('cpu_seconds', 0.0) + time.process_time() - c0
        run_loss += loss.item()
        run_n += 1
        if state['step'] % 20 == 0:
            print(f"step {state['step']} loss {run_loss / run_n:.4f} lr {lr:.2e} tokens {state['tokens']} "
                  f"{state['tokens'] / state['train_seconds']:.0f} tok/s", flush=True)
        if time.time() - last_ckpt >= args.ckpt_minutes * 60:
            log_eval(run_loss / max(run_n, 1))
            run_loss, run_n = 0.0, 0
            save_ckpt(ckpt_path, model, opt, state, cfg, args)
            last_ckpt = time.time()
    state['rounds'] += 1
    log_eval(run_loss / max(run_n, 1) if run_n else None)
    save_ckpt(ckpt_path, model, opt, state, cfg, args)
    print('saved', ckpt_path, flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
