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

Decoding is incremental (spec section 4): `encode`, `decoder_init` (the
cross-attention keys and values of every decoder layer, once per source)
and `decoder_step`, one position of every row at a time, with a fixed-size
state so that torch.jit.trace can record the step: each causal conv
layer's last (k-1)*r GLU outputs (the step appends the new one and drops
the oldest), or each self-attention layer's key/value cache preallocated
for the whole output, written in place at the step's position, with the
positions after it masked.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

PAD = 0


class Config:
    """A model of models/*-small.yaml by name; the sizes can be made smaller
    for tests."""

    def __init__(self, name, d=256, heads=4, ff=1024, layers=4, kernel=7,
                 vocab=8000):
        self.name = name
        self.family = "transformer" if name.startswith("transformer") else "conv"
        self.variant = {"light": "lightweight"}.get(name.split("-")[0],
                                                    name.split("-")[0])
        self.d, self.heads, self.ff = d, heads, ff
        self.layers, self.kernel, self.vocab = layers, kernel, vocab
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

    def gated(self, x):
        a, gate = self.glu(x).chunk(2, dim=-1)
        return a * torch.sigmoid(gate)

    def kernel(self):
        """The depthwise kernel [D, k] of a lightweight or dilated conv."""
        if self.c.variant == "lightweight":
            return torch.softmax(self.w, dim=-1).repeat_interleave(
                self.c.d // self.c.heads, 0)
        return self.w

    def forward(self, x, pad_mask):
        c, k, r = self.c, self.k, self.dilation
        b, s, d = x.shape
        a = self.gated(x).masked_fill(pad_mask.unsqueeze(-1), 0.0)
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
            # A depthwise conv1d (oneDNN): twice as fast here as shifted
            # multiply-adds, forward and backward.
            x = F.pad(a.transpose(1, 2), (left, right))
            out = F.conv1d(x, self.kernel()[:, None, :], dilation=r, groups=d)
            out = out.transpose(1, 2)
        return self.out(out)

    def step(self, x, window):
        """The causal conv of one position x [B, 1, D] (the decoder has no
        padding), given the layer's last (k-1)*r GLU outputs `window`
        [B, (k-1)*r, D]; returns the output and the window moved on by
        one."""
        b, _, d = x.shape
        a = self.gated(x)
        window = torch.cat([window, a], dim=1)
        taps = window[:, ::self.dilation]  # [B, k, D], oldest first
        if self.c.variant == "dynamic":
            h = self.c.heads
            kernels = torch.softmax(self.w_k(a).view(b, h, self.k), dim=-1)
            out = kernels.transpose(1, 2)[..., None] * taps.view(
                b, self.k, h, d // h)
            out = out.sum(1).view(b, 1, d)
        else:
            out = (taps * self.kernel().t()).sum(1, keepdim=True)
        return self.out(out), window[:, 1:]


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q, self.kv, self.o = linear(c.d, c.d), linear(c.d, 2 * c.d), linear(c.d, c.d)
        self.drop = nn.Dropout(c.dropout)

    def heads(self, x):
        """[B, T, D] -> [B, H, T, D/H]."""
        b, t, d = x.shape
        h = self.c.heads
        return x.view(b, t, h, d // h).transpose(1, 2)

    def keys_values(self, memory):
        kk, v = self.kv(memory).chunk(2, dim=-1)
        return self.heads(kk), self.heads(v)

    def attend(self, x, kk, v, masks):
        """The queries of x [B, T, D] over keys and values [B, H, S, D/H];
        each of `masks` (broadcast to [B, H, T, S]) hides its true keys."""
        b, t, d = x.shape
        q = self.heads(self.q(x))
        scores = q @ kk.transpose(-1, -2) / math.sqrt(self.c.d // self.c.heads)
        for mask in masks:
            scores = scores.masked_fill(mask, float("-inf"))
        p = self.drop(torch.softmax(scores, dim=-1))
        return self.o((p @ v).transpose(1, 2).reshape(b, t, d))

    def forward(self, x, memory, key_pad, causal):
        kk, v = self.keys_values(memory)
        masks = [key_pad[:, None, None, :]]
        if causal:
            t, s = x.shape[1], memory.shape[1]
            masks.append(torch.ones(t, s, dtype=torch.bool).triu(1))
        return self.attend(x, kk, v, masks)

    def step(self, x, position, cache_k, cache_v):
        """Causal self-attention of one position x [B, 1, D] at `position`
        ([1] int64) with key and value caches [B, H, T_max, D/H], which it
        writes in place (the decoder has no padding)."""
        kk, v = self.keys_values(x)
        cache_k.index_copy_(2, position, kk)
        cache_v.index_copy_(2, position, v)
        future = torch.arange(cache_k.shape[2]) > position
        return self.attend(x, cache_k, cache_v, [future])


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

    def step(self, x, position, cross, state):
        """Decodes one position x [B, 1, D] of a decoder layer at inference
        (no dropout): `cross` is the layer's (keys, values, source mask)
        of decoder_init, `state` its conv window or (key, value) cache.
        Returns x and the new state."""
        y = self.norms[0](x)
        if self.c.family == "conv":
            y, state = self.mix.step(y, state)
        else:
            y = self.mix.step(y, position, *state)
        x = x + y
        kk, v, mask = cross
        x = x + self.cross.attend(self.norms[1](x), kk, v, [mask])
        return x + self.ffn(self.norms[-1](x)), state


def sinusoids(positions, d):
    """The sinusoidal embeddings [len(positions), d] of int64 positions."""
    half = d // 2
    t = positions.to(torch.float32)[:, None]
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

    def embed(self, ids, positions=None):
        """ids [B, T] at `positions` (int64 [T]; 0 to T-1 by default)."""
        x = F.embedding(ids, self.embedding)
        if self.c.family == "transformer":
            if positions is None:
                positions = torch.arange(ids.shape[1])
            x = x + sinusoids(positions, self.c.d)
        return self.drop(x)

    def project(self, y):
        """Logits of decoder outputs y."""
        return self.dec_norm(y) @ self.embedding.t() * self.c.d ** -0.5

    def encode(self, src):
        """The encoder output (enc_out) and padding mask of `src` [B, S]."""
        src_pad = src == PAD
        x = self.embed(src)
        for layer in self.encoder:
            x = layer(x, src_pad)
        return self.enc_norm(x), src_pad

    def logits(self, src, inputs):
        """Teacher-forced logits [B, T, V] of decoder inputs [B, T]."""
        memory, src_pad = self.encode(src)
        y = self.embed(inputs)
        tgt_pad = torch.zeros_like(inputs, dtype=torch.bool)
        for layer in self.decoder:
            y = layer(y, tgt_pad, memory, src_pad)
        return self.project(y)

    def forward(self, src, tgt):
        inputs = F.pad(tgt[:, :-1], (1, 0), value=PAD)  # shifted right
        logits = self.logits(src, inputs)
        return F.cross_entropy(logits.reshape(-1, self.c.vocab), tgt.reshape(-1),
                               ignore_index=PAD)

    def decoder_init(self, memory, src_pad):
        """Each decoder layer's cross-attention (keys, values, source
        mask), computed once per source."""
        mask = src_pad[:, None, None, :]
        return tuple((*layer.cross.keys_values(memory), mask)
                     for layer in self.decoder)

    def initial_state(self, batch, length):
        """The decoding state before the first position: zero windows of
        (k-1)*r GLU outputs per conv layer, or empty key and value caches
        for `length` positions per self-attention layer."""
        if self.c.family == "conv":
            return tuple(torch.zeros(batch, (l.mix.k - 1) * l.mix.dilation,
                                     self.c.d) for l in self.decoder)
        shape = (batch, self.c.heads, length, self.c.d // self.c.heads)
        return tuple((torch.zeros(shape), torch.zeros(shape))
                     for _ in self.decoder)

    def decoder_step(self, tokens, position, cross, state):
        """Decodes the previous tokens [B] at `position` ([1] int64):
        returns the logits [B, V] and the new state."""
        y = self.embed(tokens[:, None], position)
        new_state = []
        for layer, layer_cross, layer_state in zip(self.decoder, cross, state):
            y, layer_state = layer.step(y, position, layer_cross, layer_state)
            new_state.append(layer_state)
        return self.project(y)[:, 0], tuple(new_state)


class DecoderStep(nn.Module):
    """Seq2Seq.decoder_step as a module's forward, for torch.jit.trace."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, position, cross, state):
        return self.model.decoder_step(tokens, position, cross, state)


def trace_step(model, batch, source, length):
    """decoder_step traced at batch `batch`, source length `source` and
    `length` output positions (the state's shapes are fixed by these), and
    frozen: the parameters become constants, so that what depends on them
    alone (the lightweight kernel's softmax and repeat_interleave, half of
    an unfrozen step at B=1) is computed once."""
    src = torch.randint(3, model.c.vocab, (batch, source))
    cross = model.decoder_init(*model.encode(src))
    example = (torch.zeros(batch, dtype=torch.int64),
               torch.zeros(1, dtype=torch.int64), cross,
               model.initial_state(batch, length))
    return torch.jit.freeze(torch.jit.trace(DecoderStep(model).eval(),
                                            example))


def greedy(model, step, src, length):
    """Greedy decoding of `length` tokens per row of src [B, S] (EOS does
    not stop it) with a decoder step `step` (traced or not)."""
    cross = model.decoder_init(*model.encode(src))
    state = model.initial_state(src.shape[0], length)
    tokens = torch.full((src.shape[0],), PAD, dtype=torch.int64)
    out = []
    for t in range(length):
        logits, state = step(tokens, torch.tensor([t]), cross, state)
        tokens = logits.argmax(-1)
        out.append(tokens)
    return torch.stack(out, dim=1)


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
