"""The entity model's decoding, on scripted scores (the scorer is the unit's input here;
the shipped weights are tested through the tool in tests/tools/text)."""

from __future__ import annotations

import numpy as np

from muie.tools.models import entity_model as em


def scripted(scores: dict[tuple[int, int, int], float]):
    """A scorer whose probability is ``scores[(start, width - 1, type)]``, else 0.01."""
    def scorer(words, shapes, mask, types):
        p = np.full((words.shape[0], words.shape[1], 12, types.shape[1]), 0.01, np.float32)
        for (s, k, t), v in scores.items():
            p[:, s, k, t] = v
        return np.log(p / (1 - p))
    return scorer


def run(scores, n_words=5, n_types=2, broad=None, threshold=0.5):
    tokens = [[f"w{i}" for i in range(n_words)]]
    vecs = [np.zeros((n_words, 4), np.float32)]
    return em.predict_with(scripted(scores), vecs, tokens, np.zeros((n_types, 3), np.float32), 12, threshold,
                           broad)[0]


def test_the_best_of_overlapping_spans_is_kept_and_ties_go_to_the_longer():
    got = run({(0, 1, 0): 0.9, (1, 0, 1): 0.8, (3, 0, 0): 0.7, (3, 1, 0): 0.7})
    assert [(a, b, t) for a, b, t, _ in got] == [(0, 2, 0), (3, 5, 0)]


def test_a_broad_type_gives_way_to_a_narrower_one_the_span_also_passes():
    scores = {(0, 1, 0): 0.95, (0, 1, 1): 0.6, (3, 0, 0): 0.9, (3, 0, 1): 0.05}  # 0: person, 1: politician
    plain = run(scores)
    assert [(a, b, t) for a, b, t, _ in plain] == [(0, 2, 0), (3, 4, 0)]
    given_way = run(scores, broad=np.array([True, False]))
    # the first span passes for politician too and takes it; the second passes only for person
    assert [(a, b, t) for a, b, t, _ in given_way] == [(0, 2, 1), (3, 4, 0)]
    assert run(scores, broad=np.array([True, True])) == plain  # no narrower type: nothing changes


def test_a_span_passing_only_a_broad_type_but_leaning_to_a_narrow_one_takes_the_narrow_one():
    # 0: person, 1: politician, 2: party; the span passes only for person, and leans to politician
    scores = {(0, 1, 0): 0.9, (0, 1, 1): 0.2, (0, 1, 2): 0.15, (3, 0, 0): 0.8, (3, 0, 1): 0.04}
    got = run(scores, n_types=3, broad=np.array([True, False, False]))
    assert [(a, b, t, round(p, 2)) for a, b, t, p in got] == [(0, 2, 1, 0.9), (3, 4, 0, 0.8)]
    assert [(a, b, t) for a, b, t, _ in run(scores, n_types=3)] == [(0, 2, 0), (3, 4, 0)]  # no broad types marked


def test_long_sentences_are_scored_in_windows_and_each_span_kept_once():
    n = 300
    scores = {(5, 0, 0): 0.9}
    got = run(scores, n_words=n)
    # the scripted scorer marks word 5 of every window: each window's own part keeps its hit once
    starts = sorted(a for a, _, _, _ in got)
    assert len(starts) == len(set(starts)) and 5 in starts
    windows = em._windows(n)
    assert windows[0][0] == 0 and windows[-1][1] == n
    assert all(w[3] == nxt[2] for w, nxt in zip(windows, windows[1:]))  # owned parts tile the sentence


def test_a_lower_case_article_opening_a_span_is_left_out_and_a_capitalised_one_kept():
    def spans(words):
        return [(a, b) for a, b, _, _ in em.predict_with(scripted({(0, 2, 0): 0.9}), [np.zeros((len(words), 4),
                                                         np.float32)], [words], np.zeros((1, 3), np.float32),
                                                         12, 0.5)[0]]

    assert spans(["the", "2009", "election", "was"]) == [(1, 3)]
    assert spans(["The", "Rolling", "Stones", "played"]) == [(0, 3)]
