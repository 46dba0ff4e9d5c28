"""The span x type scorer trained on top of the frozen sentence encoder.

Input: word vectors from the encoder (mean of each word's sub-word states), each word's
shape (casing: the encoder lower-cases, so "apple" and "Apple" reach it alike), and the
unit embeddings of the schema's type phrases from the same encoder. Two small
self-attention blocks contextualise the words; a span (start, width) is the MLP of its
first and last word and its width; a type is the MLP of its phrase embedding; their dot
product is the span's logit for that type. Types never interact, so any label set works
at run time, and a type seen for the first time is scored through its phrase alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from muie.tools.models.word_features import N_SHAPES


class Block(nn.Module):
    """Pre-norm self-attention and feed-forward, masked so padding changes nothing."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, w, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, w, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        att = att.masked_fill(~mask[:, None, None, :], -1e4).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, w, d)
        x = x + self.drop(self.out(y))
        return x + self.drop(self.ff(self.ln2(x)))


def mlp(d_in: int, d_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, 2 * d_out), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * d_out, d_out))


class SpanTypeScorer(nn.Module):
    def __init__(self, d_words: int, d_types: int, dim: int = 256, blocks: int = 2, heads: int = 4,
                 max_width: int = 12, dropout: float = 0.1, sims: bool = True) -> None:
        super().__init__()
        self.max_width = max_width
        self.inp = nn.Sequential(nn.Dropout(dropout), nn.Linear(d_words, dim))
        self.shape = nn.Embedding(N_SHAPES, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, dropout) for _ in range(blocks))
        self.ln = nn.LayerNorm(dim)
        # the span MLP's first layer over [first word; last word; width], applied to each part
        # on its own and summed per span: the same function, at a fraction of the cost
        self.first = nn.Linear(dim, 2 * dim)
        self.last = nn.Linear(dim, 2 * dim, bias=False)
        self.width = nn.Embedding(max_width, 2 * dim)
        self.span = nn.Sequential(nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))
        self.kind = mlp(d_types, dim, dropout)
        # the same words read in the type phrases' own space: the encoder's last layer, whose
        # mean over a span is (as for a sentence) comparable with a phrase's embedding.
        # How close a span's words are to a type's phrase is a signal no type owns, so it
        # carries over to type phrases never seen in training.
        self.sims = sims
        self.sim_from = d_words - d_types
        if sims:
            self.sim = nn.Sequential(nn.Linear(N_SIMS, 32), nn.GELU(), nn.Linear(32, 1))
            self.sim_gate = nn.Linear(dim, 1)

    def forward(self, words: torch.Tensor, shapes: torch.Tensor, mask: torch.Tensor,
                types: torch.Tensor) -> torch.Tensor:
        """words [B, W, Dw], shapes [B, W] long, mask [B, W] bool, types [B, T, Dt] ->
        logits [B, W, K, T]: span (start w, width k+1) against type t."""
        x = self.inp(words) + self.shape(shapes)
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln(x)
        w = x.shape[1]
        k = self.max_width
        # the end word of each (start, width), clamped at the last word (masked out later)
        ends = (torch.arange(w, device=x.device)[:, None] + torch.arange(k, device=x.device)[None, :]).clamp(max=w - 1)
        last = self.last(x)[:, ends]  # [B, W, K, 2D]
        spans = self.span(self.first(x)[:, :, None, :] + last + self.width.weight[None, None])  # [B, W, K, D]
        kinds = self.kind(types)  # [B, T, D]
        logits = torch.einsum("bwkd,btd->bwkt", spans, kinds)
        if not self.sims:
            return logits
        return logits + self.sim(similarities(words[..., self.sim_from:], mask, types, ends, k)).squeeze(-1) \
            * (1 + self.sim_gate(spans))


N_SIMS = 5
CONTEXT = 3  # words each side of a span read as its context


def similarities(last: torch.Tensor, mask: torch.Tensor, types: torch.Tensor, ends: torch.Tensor,
                 k: int) -> torch.Tensor:
    """[B, W, K, T, N_SIMS]: cosine of each type's phrase vector with the span's mean last-layer
    vector, its last word's, its first word's, and the mean of the ``CONTEXT`` words before it
    and after it ("the novelist ...", "... 's party")."""
    last = last * mask[..., None]
    units = torch.nn.functional.normalize(types, dim=-1)  # [B, T, Dt]
    words = torch.nn.functional.normalize(last, dim=-1)
    word_cos = words @ units.transpose(1, 2)  # [B, W, T]
    w = last.shape[1]
    # sums[:, i] is the sum of the words before word i (i = 0..W)
    sums = torch.cat([torch.zeros_like(last[:, :1]), torch.cumsum(last, 1)], 1)
    idx = torch.arange(w, device=last.device)
    span_sums = sums[:, ends + 1] - sums[:, idx][:, :, None]  # [B, W, K, Dt]
    mean_cos = torch.einsum("bwkd,btd->bwkt", torch.nn.functional.normalize(span_sums, dim=-1), units)
    before = sums[:, idx] - sums[:, (idx - CONTEXT).clamp(min=0)]  # [B, W, Dt]: before the span's start
    before_cos = torch.nn.functional.normalize(before, dim=-1) @ units.transpose(1, 2)  # [B, W, T]
    after = sums[:, (ends + 1 + CONTEXT).clamp(max=w)] - sums[:, ends + 1]  # [B, W, K, Dt]
    after_cos = torch.einsum("bwkd,btd->bwkt", torch.nn.functional.normalize(after, dim=-1), units)
    first_cos = word_cos[:, :, None, :].expand(-1, w, k, -1)
    last_cos = word_cos[:, ends]  # [B, W, K, T]
    return torch.stack([mean_cos, last_cos, first_cos, before_cos[:, :, None, :].expand(-1, w, k, -1), after_cos], -1)


def span_mask(mask: torch.Tensor, max_width: int) -> torch.Tensor:
    """[B, W, K] True where the span (start, width) lies inside the sentence."""
    lengths = mask.sum(-1)  # [B]
    w = mask.shape[1]
    ends = torch.arange(w, device=mask.device)[:, None] + torch.arange(max_width, device=mask.device)[None, :]
    return ends[None] < lengths[:, None, None]
