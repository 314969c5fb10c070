"""The four small models of models/*-small.yaml in PyTorch, for bench/.

The same math as the compiled models (../shared/spec/architecture.md, with
the choices of docs/): pre-norm T5 layers without biases, RMSNorm, a GLU conv
block (lightweight, dynamic or dilated) in place of self-attention in the
conv models, cross-attention in every decoder layer, a shared embedding with
logits scaled by D^-0.5, dropout 0.1 on the embedding, every sublayer output,
the FFN hidden layer and the attention probabilities, and Adafactor (lr 1e-3,
factored second moments, clipping to global norm 1), as the definitions'
training sections say.

Each conv is written the fastest way this PyTorch (1.13, CPU) allows that we
found: lightweight and dilated convs as a depthwise F.conv1d (oneDNN; twice
as fast as shifted multiply-adds at B=16, S=512, forward and backward), the
dynamic conv as k shifted multiply-adds on channels-last data with per-head
kernels broadcast over the head's channels (F.conv1d cannot take a kernel
per position; unfolding the window was slower). Attention is the standard matmul-softmax-matmul (1.13 has
no fused attention on CPU).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

PAD = 0


class Config:
    def __init__(self, name):
        self.name = name
        self.family = "transformer" if name.startswith("transformer") else "conv"
        self.variant = {"light": "lightweight"}.get(name.split("-")[0],
                                                    name.split("-")[0])
        self.d, self.heads, self.ff = 256, 4, 1024
        self.layers, self.kernel, self.vocab = 4, 7, 8000
        self.dropout = 0.1


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.g = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.g


def linear(d_in, d_out):
    layer = nn.Linear(d_in, d_out, bias=False)
    nn.init.normal_(layer.weight, std=d_in ** -0.5)
    return layer


class ConvBlock(nn.Module):
    """GLU, one conv variant, output projection (spec section 2)."""

    def __init__(self, c, causal, layer):
        super().__init__()
        d, h, k = c.d, c.heads, c.kernel
        self.c, self.causal, self.k = c, causal, k
        self.glu = linear(d, 2 * d)  # W_I and W_S side by side
        self.out = linear(d, d)
        self.dilation = 2 ** (layer % 4) if c.variant == "dilated" else 1
        if c.variant == "lightweight":
            self.w = nn.Parameter(torch.randn(h, k) * k ** -0.5)
        elif c.variant == "dynamic":
            self.w_k = linear(d, h * k)
        else:
            self.w = nn.Parameter(torch.randn(d, k) * k ** -0.5)

    def forward(self, x, pad_mask):
        c, k, r = self.c, self.k, self.dilation
        b, s, d = x.shape
        a, gate = self.glu(x).chunk(2, dim=-1)
        a = a * torch.sigmoid(gate)
        a = a.masked_fill(pad_mask.unsqueeze(-1), 0.0)
        left = (k - 1) * r if self.causal else (k // 2) * r
        right = (k - 1) * r - left
        if c.variant == "dynamic":
            h = c.heads
            kernels = torch.softmax(self.w_k(a).view(b, s, h, k), dim=-1)
            heads = F.pad(a, (0, 0, left, right)).view(b, -1, h, d // h)
            out = torch.zeros_like(a).view(b, s, h, d // h)
            for j in range(k):
                out = out + kernels[..., j:j + 1] * heads[:, j:j + s]
            out = out.view(b, s, d)
        else:
            w = self.w
            if c.variant == "lightweight":
                w = torch.softmax(w, dim=-1).repeat_interleave(d // c.heads, 0)
            # A depthwise conv1d (oneDNN): twice as fast here as shifted
            # multiply-adds, forward and backward.
            x = F.pad(a.transpose(1, 2), (left, right))
            out = F.conv1d(x, w[:, None, :], dilation=r, groups=d)
            out = out.transpose(1, 2)
        return self.out(out)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q, self.kv, self.o = linear(c.d, c.d), linear(c.d, 2 * c.d), linear(c.d, c.d)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x, memory, key_pad, causal):
        b, t, d = x.shape
        h = self.c.heads
        q = self.q(x).view(b, t, h, d // h).transpose(1, 2)
        kk, v = self.kv(memory).chunk(2, dim=-1)
        kk = kk.view(b, -1, h, d // h).transpose(1, 2)
        v = v.view(b, -1, h, d // h).transpose(1, 2)
        scores = q @ kk.transpose(-1, -2) / math.sqrt(d // h)
        scores = scores.masked_fill(key_pad[:, None, None, :], float("-inf"))
        if causal:
            s = scores.shape[-1]
            future = torch.ones(t, s, dtype=torch.bool).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        p = self.drop(torch.softmax(scores, dim=-1))
        return self.o((p @ v).transpose(1, 2).reshape(b, t, d))


class FFN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.w1, self.w2 = linear(c.d, c.ff), linear(c.ff, c.d)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x):
        return self.w2(self.drop(torch.relu(self.w1(x))))


class Layer(nn.Module):
    def __init__(self, c, decoder, index):
        super().__init__()
        self.c, self.decoder = c, decoder
        if c.family == "conv":
            self.mix = ConvBlock(c, causal=decoder, layer=index)
        else:
            self.mix = Attention(c)
        self.norms = nn.ModuleList(RMSNorm(c.d) for _ in range(3 if decoder else 2))
        self.cross = Attention(c) if decoder else None
        self.ffn = FFN(c)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x, pad, memory=None, memory_pad=None):
        y = self.norms[0](x)
        if self.c.family == "conv":
            y = self.mix(y, pad)
        else:
            y = self.mix(y, y, pad, causal=self.decoder)
        x = x + self.drop(y)
        if self.decoder:
            y = self.cross(self.norms[1](x), memory, memory_pad, causal=False)
            x = x + self.drop(y)
        return x + self.drop(self.ffn(self.norms[-1](x)))


def sinusoids(length, d):
    half = d // 2
    t = torch.arange(length, dtype=torch.float32)[:, None]
    rates = torch.pow(10000.0, -torch.arange(half, dtype=torch.float32) / (half - 1))
    return torch.cat([torch.sin(t * rates), torch.cos(t * rates)], dim=-1)


class Seq2Seq(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embedding = nn.Parameter(torch.randn(c.vocab, c.d))
        self.encoder = nn.ModuleList(Layer(c, False, i) for i in range(c.layers))
        self.decoder = nn.ModuleList(Layer(c, True, i) for i in range(c.layers))
        self.enc_norm, self.dec_norm = RMSNorm(c.d), RMSNorm(c.d)
        self.drop = nn.Dropout(c.dropout)

    def embed(self, ids):
        x = F.embedding(ids, self.embedding)
        if self.c.family == "transformer":
            x = x + sinusoids(ids.shape[1], self.c.d)
        return self.drop(x)

    def forward(self, src, tgt):
        src_pad = src == PAD
        x = self.embed(src)
        for layer in self.encoder:
            x = layer(x, src_pad)
        memory = self.enc_norm(x)
        inputs = F.pad(tgt[:, :-1], (1, 0), value=PAD)  # shifted right
        y = self.embed(inputs)
        tgt_pad = torch.zeros_like(inputs, dtype=torch.bool)
        for layer in self.decoder:
            y = layer(y, tgt_pad, memory, src_pad)
        logits = self.dec_norm(y) @ self.embedding.t() * self.c.d ** -0.5
        return F.cross_entropy(logits.reshape(-1, self.c.vocab), tgt.reshape(-1),
                               ignore_index=PAD)


class Adafactor(torch.optim.Optimizer):
    """Shazeer and Stern 2018 with a given learning rate, as the compiled
    step runs it (docs/training.md): eps1 1e-30, eps2 1e-3 (parameter-scale
    floor, unused with a given rate), update clipping 1, decay t^-0.8,
    factored second moments for matrices."""

    def __init__(self, params, lr=1e-3):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g, state = p.grad, self.state[p]
                state["step"] = state.get("step", 0) + 1
                beta = 1.0 - state["step"] ** -0.8
                sq = g * g + 1e-30
                if p.dim() == 2:
                    row = state.setdefault("row", torch.zeros(p.shape[0]))
                    col = state.setdefault("col", torch.zeros(p.shape[1]))
                    row.mul_(beta).add_(sq.mean(1), alpha=1 - beta)
                    col.mul_(beta).add_(sq.mean(0), alpha=1 - beta)
                    v = torch.outer(row / row.mean(), col)
                else:
                    v = state.setdefault("v", torch.zeros_like(p))
                    v.mul_(beta).add_(sq, alpha=1 - beta)
                u = g * torch.rsqrt(v)
                u.div_(max(1.0, (u.pow(2).mean().sqrt()).item()))
                p.add_(u, alpha=-group["lr"])


def train_step(model, optimizer, src, tgt):
    optimizer.zero_grad(set_to_none=True)
    loss = model(src, tgt)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()
