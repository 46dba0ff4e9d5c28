"""The entity model's word features: the packaged encoder's states per word, and word shapes."""

from __future__ import annotations

import numpy as np

from muie.tools.models import word_features as wf


def test_words_are_cut_with_their_offsets():
    text = "Dr. O'Neil met IBM's CEO (at 9:30) in New-York."
    words = [text[a:b] for a, b in wf.split_words(text)]
    assert words == ["Dr", ".", "O'Neil", "met", "IBM's", "CEO", "(", "at", "9", ":", "30", ")", "in",
                     "New-York", "."]


def test_shapes_keep_the_casing_the_encoder_drops_and_mark_a_sentence_without_capitals():
    assert wf.sentence_shapes(["Apple", "apple", "IBM", "iPhone", "2024", ","]) == [
        wf.TITLE, wf.LOWER, wf.UPPER, wf.MIXED, wf.DIGIT, wf.PUNCT]
    # written without capitals (a lower-cased set, a transcript): lower case says nothing there
    assert wf.sentence_shapes(["tim", "cook", "runs", "apple", "since", "2011", "."]) == [
        wf.UNCASED] * 5 + [wf.DIGIT, wf.PUNCT]
    assert max(wf.LOWER, wf.TITLE, wf.UPPER, wf.MIXED, wf.DIGIT, wf.OTHER_ALPHA, wf.PUNCT, wf.UNCASED) < wf.N_SHAPES


def test_a_word_reads_the_same_vector_in_a_long_sentence_as_in_a_short_one():
    enc = wf.word_encoder()
    short = "Marie Curie was born in Warsaw and moved to Paris in 1891 .".split()
    filler = ("the river ran slowly past the old mill while the farmers " * 12).split()  # 120 words
    long = short + filler + short + filler + short  # 276 words: several windows
    (v_short,), (v_long,) = enc.encode([short]), enc.encode([long])
    assert v_long.shape == (len(long), enc.dim) and np.isfinite(v_long).all()
    assert not (np.abs(v_long).sum(1) == 0).any()  # every word has a vector: nothing cut off
    # the last copy of the sentence sits in the last window, away from its edge: same context
    tail = v_long[-len(short):]
    cos = (tail * v_short).sum(1) / np.linalg.norm(tail, axis=1) / np.linalg.norm(v_short, axis=1)
    assert cos.min() > 0.5 and cos.mean() > 0.8
    # the first word of the middle copy is read with context: its vector differs from the bare word's
    (v_bare,) = enc.encode([["Marie"]])
    mid = len(short) + len(filler)
    assert not np.allclose(v_long[mid], v_bare[0], atol=1e-3)
