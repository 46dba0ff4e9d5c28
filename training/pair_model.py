"""The pair x type scorer: relations between two spans, and an event's arguments.

Input: the same word vectors and shapes as the entity model (the frozen encoder's
states, computed once per sentence and shared), the word spans of P ordered pairs
(head, tail), and the unit embeddings of T type phrases ("employer", "place of birth",
"victim of an attack"). Two self-attention blocks contextualise the words once per
sentence; a span is the MLP of its first word, last word and mean, read once as a head
and once as a tail, so that direction is learned; the pair adds the words between its two
spans and their distance. The pair's logit for a type is the dot product of the pair and
type MLPs, plus a term no type owns: how close the type's phrase is, in the encoder's own
last layer, to the words between the spans, to each span and to the whole sentence, read
by a small MLP shared by all types. Types never interact, so any label set works.
"""

from __future__ import annotations

import torch
from torch import nn

from muie.tools.models.word_features import N_SHAPES
from muie.training.model import Block, mlp

N_SIMS = 4
MAX_DISTANCE = 32  # words between the spans, bucketed beyond


def _mean(x: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` [B, W, D] over each [start, end) of ``spans`` [B, P, 2] -> [B, P, D] (0 when empty)."""
    sums = torch.cat([torch.zeros_like(x[:, :1]), torch.cumsum(x, 1)], 1)  # [B, W + 1, D]
    idx = spans.clamp(min=0, max=x.shape[1])
    gather = lambda i: torch.gather(sums, 1, i[..., None].expand(-1, -1, x.shape[-1]))  # noqa: E731
    total = gather(idx[..., 1]) - gather(idx[..., 0])
    n = (idx[..., 1] - idx[..., 0]).clamp(min=1)[..., None].to(x.dtype)
    return total / n


def _pick(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x`` [B, W, D] at word ``index`` [B, P] -> [B, P, D]."""
    return torch.gather(x, 1, index.clamp(min=0, max=x.shape[1] - 1)[..., None].expand(-1, -1, x.shape[-1]))


def between(heads: torch.Tensor, tails: torch.Tensor) -> torch.Tensor:
    """[B, P, 2] the words strictly between each pair's two spans (empty when they touch)."""
    start = torch.minimum(heads[..., 1], tails[..., 1])
    end = torch.maximum(heads[..., 0], tails[..., 0])
    return torch.stack([start, torch.maximum(start, end)], -1)


class PairTypeScorer(nn.Module):
    def __init__(self, d_words: int, d_types: int, dim: int = 256, blocks: int = 2, heads: int = 4,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Dropout(dropout), nn.Linear(d_words, dim))
        self.shape = nn.Embedding(N_SHAPES, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, dropout) for _ in range(blocks))
        self.ln = nn.LayerNorm(dim)
        self.head = mlp(3 * dim, dim, dropout)
        self.tail = mlp(3 * dim, dim, dropout)
        self.distance = nn.Embedding(2 * MAX_DISTANCE + 1, dim)
        self.pair = mlp(4 * dim, dim, dropout)
        self.kind = mlp(d_types, dim, dropout)
        self.sim_from = d_words - d_types
        self.sim = nn.Sequential(nn.Linear(N_SIMS, 32), nn.GELU(), nn.Linear(32, 1))
        self.sim_gate = nn.Linear(dim, 1)

    def _span(self, x: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        return torch.cat([_pick(x, spans[..., 0]), _pick(x, spans[..., 1] - 1), _mean(x, spans)], -1)

    def forward(self, words: torch.Tensor, shapes: torch.Tensor, mask: torch.Tensor, heads: torch.Tensor,
                tails: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """words [B, W, Dw], shapes [B, W] long, mask [B, W] bool, heads and tails [B, P, 2] long
        (word start, end exclusive), types [B, T, Dt] -> logits [B, P, T]."""
        x = self.inp(words) + self.shape(shapes)
        for block in self.blocks:
            x = block(x, mask)
        x = self.ln(x)
        gap = between(heads, tails)
        signed = (tails[..., 0] - heads[..., 0]).clamp(-MAX_DISTANCE, MAX_DISTANCE) + MAX_DISTANCE
        h, t = self.head(self._span(x, heads)), self.tail(self._span(x, tails))
        pairs = self.pair(torch.cat([h, t, _mean(x, gap), self.distance(signed)], -1))  # [B, P, D]
        logits = torch.einsum("bpd,btd->bpt", pairs, self.kind(types))
        last = words[..., self.sim_from:] * mask[..., None]
        units = nn.functional.normalize(types, dim=-1)
        parts = [_mean(last, gap), _mean(last, heads), _mean(last, tails),
                 last.sum(1, keepdim=True).expand(-1, heads.shape[1], -1)]
        sims = torch.stack([nn.functional.normalize(p, dim=-1) @ units.transpose(1, 2) for p in parts], -1)
        return logits + self.sim(sims).squeeze(-1) * (1 + self.sim_gate(pairs))
