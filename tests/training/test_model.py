"""The scorer's span/type-phrase similarities: the cosines it reads are the ones it names."""

from __future__ import annotations

import torch

from muie.training.model import CONTEXT, SpanTypeScorer, similarities


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.normalize(a, dim=0) @ torch.nn.functional.normalize(b, dim=0))


def test_similarities_are_the_cosines_of_span_words_and_context_with_each_type_phrase():
    torch.manual_seed(0)
    w, k, d = 9, 4, 16
    last, types = torch.randn(1, w, d), torch.randn(1, 3, d)
    mask = torch.ones(1, w, dtype=torch.bool)
    ends = (torch.arange(w)[:, None] + torch.arange(k)[None, :]).clamp(max=w - 1)
    sims = similarities(last, mask, types, ends, k)
    assert sims.shape == (1, w, k, 3, 5)
    s, width, t = 4, 2, 1  # the span of words 4..5 against type 1
    got = sims[0, s, width - 1, t]
    want = [_cos(last[0, s:s + width].sum(0), types[0, t]), _cos(last[0, s + width - 1], types[0, t]),
            _cos(last[0, s], types[0, t]), _cos(last[0, s - CONTEXT:s].sum(0), types[0, t]),
            _cos(last[0, s + width:s + width + CONTEXT].sum(0), types[0, t])]
    assert torch.allclose(got, torch.tensor(want), atol=1e-5)


def test_padding_words_change_no_similarity_of_a_shorter_sentence():
    torch.manual_seed(1)
    last, types = torch.randn(2, 6, 8), torch.randn(2, 2, 8)
    last[1, :4] = last[0, :4]
    types[1] = types[0]
    mask = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    ends = (torch.arange(6)[:, None] + torch.arange(3)[None, :]).clamp(max=5)
    sims = similarities(last, mask, types, ends, 3)
    short = similarities(last[:1, :4], mask[:1, :4], types[:1], (torch.arange(4)[:, None] + torch.arange(3)[None, :])
                         .clamp(max=3), 3)
    # one-word spans of the 4 real words read the same whatever padding follows (context included)
    assert torch.allclose(sims[0, :4, 0], short[0, :4, 0], atol=1e-5)


def test_the_scorer_reads_similarities_only_when_asked():
    words, types = torch.randn(1, 5, 32), torch.randn(1, 2, 16)
    shapes, mask = torch.ones(1, 5, dtype=torch.long), torch.ones(1, 5, dtype=torch.bool)
    with_sims, without = SpanTypeScorer(32, 16, dim=8), SpanTypeScorer(32, 16, dim=8, sims=False)
    assert with_sims(words, shapes, mask, types).shape == without(words, shapes, mask, types).shape == (1, 5, 12, 2)
    assert hasattr(with_sims, "sim") and not hasattr(without, "sim")
