"""Depth-vs-width sweep at roughly equal parameters (LM-SPEC "Model": size chosen by measurement).

    nice -n 5 python models/lm/train/sweep.py --data models/lm/data/v1 --tokenizer models/lm/tokenizer.model \
        --runs models/lm/runs --minutes 5 --out models/lm/sweep.json

Each configuration trains for the same wall-clock budget, one after another (one process at a
time, 1 thread), on the same data order and seed and with the same schedule; the row records
params, tokens/s, tokens seen, and val loss at the end. The winner's run directory is a normal
checkpoint: continue it with train.py --resume.
"""
import argparse
import json
import os
import subprocess
import sys

CONFIGS = [
    # (hidden, layers, head_dim): kv heads = heads / 2, FFN = 2.7 x hidden rounded to 32
    (384, 3, 64),
    (256, 8, 32),
    (192, 14, 32),
]


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--runs', required=True)
    ap.add_argument('--minutes', type=float, default=5)
    ap.add_argument('--cpu-minutes', type=float, default=0, help='equal CPU time per row (the machine is shared)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--extra', default='', help='extra train.py arguments, shared by all rows')
    a = ap.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    rows = []
    for d, L, hd in CONFIGS:
        run = os.path.join(a.runs, f'd{d}-L{L}')
        cmd = [sys.executable, os.path.join(here, 'train.py'), '--data', a.data, '--tokenizer', a.tokenizer, '--run', run,
               '--hidden', str(d), '--layers', str(L), '--head-dim', str(hd), '--minutes', str(a.minutes), '--cpu-minutes', str(a.cpu_minutes),
               '--ckpt-minutes', str(a.minutes * 2), '--greedy-n', '0'] + a.extra.split()
        print(' '.join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        with open(os.path.join(run, 'log.jsonl')) as f:
            last = [json.loads(l) for l in f if l.strip()][-1]
        rows.append({'hidden': d, 'layers': L, 'heads': d // hd, 'kv_heads': d // hd // 2, 'head_dim': hd,
                     'ffn': last['config']['ffn'], 'params': last['params'], 'train_seconds': last['train_seconds'],
                     'tokens': last['tokens'], 'tokens_per_s': round(last['tokens_per_s']), 'cpu_seconds': last['cpu_seconds'],
                     'tokens_per_cpu_s': round(last['tokens_per_cpu_s']), 'steps': last['step'],
                     'val_loss': round(last['val_loss'], 4), 'run': run})
        with open(a.out, 'w') as f:
            json.dump({'minutes_each': a.minutes, 'cpu_minutes_each': a.cpu_minutes, 'rows': rows}, f, indent=1)
    best = min(rows, key=lambda r: r['val_loss'])
    with open(a.out, 'w') as f:
        json.dump({'minutes_each': a.minutes, 'cpu_minutes_each': a.cpu_minutes, 'rows': rows, 'winner': best}, f, indent=1)
    print('winner', json.dumps(best), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
