"""The Kestrel LM in torch: a llama block stack exactly as llama.cpp computes it.

RMSNorm (eps 1e-5, weight only), RoPE in llama.cpp's NORMAL mode (adjacent pairs (2i, 2i+1)
rotated by pos * base^(-2i/head_dim), base 10000), grouped-query attention (query head h reads
kv head h // (heads / kv_heads)), SwiGLU FFN (down(silu(gate x) * up x)), no biases, output
tied to the token embedding. Because the rotation pairs are adjacent, Q and K are exported
without the permutation HF checkpoints need.
"""
import math
from dataclasses import dataclass, asdict
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab: int = 2048
    hidden: int = 256
    layers: int = 8
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 704
    context: int = 1024
    rope_base: float = 10000.0
    eps: float = 1e-5
    # Structured pruning (prune.py): per-layer query heads, kv heads and FFN widths; None = uniform.
    # head_dim is then fixed explicitly (hidden / heads no longer gives it once heads are removed).
    layer_heads: Optional[List[int]] = None
    layer_kv_heads: Optional[List[int]] = None
    layer_ffn: Optional[List[int]] = None
    head_dim_: int = 0

    @property
    def head_dim(self):
        return self.head_dim_ or self.hidden // self.heads

    def heads_at(self, i):
        return self.layer_heads[i] if self.layer_heads else self.heads

    def kv_heads_at(self, i):
        return self.layer_kv_heads[i] if self.layer_kv_heads else self.kv_heads

    def ffn_at(self, i):
        return self.layer_ffn[i] if self.layer_ffn else self.ffn

    def check(self):
        assert self.head_dim_ or self.hidden % self.heads == 0
        for lst in (self.layer_heads, self.layer_kv_heads, self.layer_ffn):
            assert lst is None or len(lst) == self.layers, f'per-layer list {lst} has not {self.layers} entries'
        for i in range(self.layers):
            h, kv = self.heads_at(i), self.kv_heads_at(i)
            assert h >= 1 and kv >= 1 and h % kv == 0, f'layer {i}: {h} heads, {kv} kv heads'
            # every GGUF row length must be a whole number of Q4_0/Q8_0 blocks
            for n in (self.hidden, self.ffn_at(i), self.head_dim * kv, self.head_dim * h):
                assert n % 32 == 0, f'layer {i}: row length {n} is not a multiple of 32'
        assert self.head_dim % 2 == 0

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope_tables(head_dim, positions, base):
    """cos/sin of shape [B, T, head_dim/2] for integer positions [B, T]."""
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    ang = positions.float()[..., None] * inv
    return ang.cos(), ang.sin()


def apply_rope(x, cos, sin):
    """x: [B, H, T, D]; rotates (x[2i], x[2i+1]) pairs (llama.cpp NORMAL mode)."""
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    c = cos[:, None]
    s = sin[:, None]
    r0 = x0 * c - x1 * s
    r1 = x0 * s + x1 * c
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, c: Config, layer=0):
        super().__init__()
        self.c = c
        hd = c.head_dim
        self.heads, self.kv_heads = c.heads_at(layer), c.kv_heads_at(layer)
        self.wq = nn.Linear(c.hidden, self.heads * hd, bias=False)
        self.wk = nn.Linear(c.hidden, self.kv_heads * hd, bias=False)
        self.wv = nn.Linear(c.hidden, self.kv_heads * hd, bias=False)
        self.wo = nn.Linear(self.heads * hd, c.hidden, bias=False)
        # prune.py's ablation: a [heads] multiplier on each head's output (None = all ones)
        self.head_gate = None

    def forward(self, x, cos, sin, mask=None, cache=None):
        B, T, _ = x.shape
        hd = self.c.head_dim
        H, KV = self.heads, self.kv_heads
        q = self.wq(x).view(B, T, H, hd).transpose(1, 2)
        k = self.wk(x).view(B, T, KV, hd).transpose(1, 2)
        v = self.wv(x).view(B, T, KV, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        if cache is not None:
            if 'k' in cache:
                k = torch.cat([cache['k'], k], dim=2)
                v = torch.cat([cache['v'], v], dim=2)
            cache['k'], cache['v'] = k, v
        rep = H // KV
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if mask is None:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        if self.head_gate is not None:
            o = o * self.head_gate.to(o.dtype)[None, :, None, None]
        return self.wo(o.transpose(1, 2).reshape(B, T, H * hd))


class FeedForward(nn.Module):
    def __init__(self, c: Config, layer=0):
        super().__init__()
        n = c.ffn_at(layer)
        self.w_gate = nn.Linear(c.hidden, n, bias=False)
        self.w_up = nn.Linear(c.hidden, n, bias=False)
        self.w_down = nn.Linear(n, c.hidden, bias=False)
        # prune.py: called with the [.., ffn] activation (importance hooks); None = off
        self.act_hook = None

    def forward(self, x):
        a = F.silu(self.w_gate(x)) * self.w_up(x)
        if self.act_hook is not None:
            a = self.act_hook(a)
        return self.w_down(a)


class Block(nn.Module):
    def __init__(self, c: Config, layer=0):
        super().__init__()
        self.attn_norm = RMSNorm(c.hidden, c.eps)
        self.attn = Attention(c, layer)
        self.ffn_norm = RMSNorm(c.hidden, c.eps)
        self.ffn = FeedForward(c, layer)
        # prune.py's layer ablation: False = the block is the identity
        self.enabled = True

    def forward(self, x, cos, sin, mask=None, cache=None):
        if not self.enabled:
            return x
        x = x + self.attn(self.attn_norm(x), cos, sin, mask, cache)
        return x + self.ffn(self.ffn_norm(x))


class KestrelLM(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        c.check()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.hidden)
        self.blocks = nn.ModuleList(Block(c, i) for i in range(c.layers))
        self.norm = RMSNorm(c.hidden, c.eps)
        self.apply(self._init)
        # GPT-2 style: residual projections scaled down with depth
        for b in self.blocks:
            nn.init.normal_(b.attn.wo.weight, std=0.02 / math.sqrt(2 * c.layers))
            nn.init.normal_(b.ffn.w_down.weight, std=0.02 / math.sqrt(2 * c.layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, ids, positions=None, mask=None, caches=None):
        """ids [B, T] -> logits [B, T, V]. Without positions/mask: causal from 0 (training)."""
        B, T = ids.shape
        if positions is None:
            positions = torch.arange(T).expand(B, T)
        cos, sin = rope_tables(self.c.head_dim, positions, self.c.rope_base)
        x = self.embed(ids)
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, mask, None if caches is None else caches[i])
        return F.linear(self.norm(x), self.embed.weight)

    def hidden(self, ids):
        """Final normed states [B, T, D] (training: the output head then runs on loss positions only)."""
        B, T = ids.shape
        cos, sin = rope_tables(self.c.head_dim, torch.arange(T).expand(B, T), self.c.rope_base)
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x, cos, sin)
        return self.norm(x)


@torch.no_grad()
def greedy(model, prompts, eos_id, max_new=160):
    """Batched greedy decoding with a KV cache. prompts: lists of ids (BOS included).
    Left-padded; each row keeps its own positions, so results equal one-at-a-time decoding."""
    model.eval()
    B = len(prompts)
    L = max(len(p) for p in prompts)
    ids = torch.zeros(B, L, dtype=torch.long)
    valid = torch.zeros(B, L, dtype=torch.bool)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p)
        valid[i, L - len(p):] = True
    pos = (valid.long().cumsum(1) - 1).clamp(min=0)
    caches = [dict() for _ in model.blocks]
    causal = torch.ones(L, L, dtype=torch.bool).tril()
    mask = (causal[None] & valid[:, None, :])[:, None]  # [B,1,T,S]
    # padded query rows see nothing: let them see themselves to avoid NaNs
    mask = mask | torch.eye(L, dtype=torch.bool)[None, None]
    logits = model(ids, pos, mask, caches)[:, -1]
    out = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool)
    nxt_pos = pos[:, -1] + 1
    for _ in range(max_new):
        tok = logits.argmax(-1)
        for i in range(B):
            if not done[i]:
                if tok[i].item() == eos_id:
                    done[i] = True
                else:
                    out[i].append(tok[i].item())
        if bool(done.all()):
            break
        valid = torch.cat([valid, torch.ones(B, 1, dtype=torch.bool)], 1)
        m = valid[:, None, None, :]
        logits = model(tok[:, None], nxt_pos[:, None], m, caches)[:, -1]
        nxt_pos = nxt_pos + 1
    return out


def gguf_params(model):
    """GGUF tensor name -> parameter, the names llama.cpp reads (export.py writes them, train.py --init-gguf reads them back)."""
    t = {'token_embd.weight': model.embed.weight}
    for i, b in enumerate(model.blocks):
        for key, p in (('attn_norm', b.attn_norm.weight), ('attn_q', b.attn.wq.weight), ('attn_k', b.attn.wk.weight),
                       ('attn_v', b.attn.wv.weight), ('attn_output', b.attn.wo.weight), ('ffn_norm', b.ffn_norm.weight),
                       ('ffn_gate', b.ffn.w_gate.weight), ('ffn_up', b.ffn.w_up.weight), ('ffn_down', b.ffn.w_down.weight)):
            t[f'blk.{i}.{key}.weight'] = p
    t['output_norm.weight'] = model.norm.weight
    assert len(t) == 2 + 9 * model.c.layers
    return t
