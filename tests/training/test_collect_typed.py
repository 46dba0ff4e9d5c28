"""Entity types read off relations, and how their partial labels are trained."""

from __future__ import annotations

import random

import numpy as np

from muie.training import collect_typed
from muie.training import train as training


def _row(words: str, *pairs: tuple[int, int, int, int, str]) -> dict:
    return {"set": "FewRel", "tokens": words.split(), "pairs": [list(p) for p in pairs], "exhaustive": False}


def test_relation_ends_become_typed_names():
    rows = [
        _row("In the 1997 presidential election , Mary McAleese won .", (1, 5, 6, 8, "successful candidate")),
        _row("Tramaine Brock is an American football player .", (0, 2, 4, 5, "NATIONALITY")),
        _row("He joined the Labour Party in 1990 .", (0, 1, 2, 5, "POLITICAL_AFFILIATION")),
        _row("In 2012 , Smith was elected .", (1, 2, 3, 4, "successful candidate")),
        _row("Mount Paget rises in the Allardyce Range .", (0, 2, 4, 7, "mountain range")),
        _row("Rosebud Ranch follows the old road .", (0, 2, 3, 6, "follows")),  # no types implied
    ]
    out = collect_typed.typed_rows(rows, random.Random(0))
    spans = {" ".join(r["tokens"][s:e]): t for r in out for s, e, t in r["spans"]}
    assert spans == {"the 1997 presidential election": "election", "Mary McAleese": "politician",
                     "Tramaine Brock": "person", "American": "nationality",  # a demonym where a country is due
                     "the Labour Party": "political party",  # "He" names nothing and is left out
                     "Smith": "politician",  # a bare year is no election
                     "Mount Paget": "mountain", "the Allardyce Range": "mountain range"}
    assert all(r["partial"] and r["set"] == collect_typed.SET for r in out) and len(out) == 5


def test_sentences_sharing_eight_words_with_excluded_files_are_found(tmp_path):
    (tmp_path / "politics-test.txt").write_text(
        "\n".join(f"{w}\tO" for w in "The party won the 2004 federal election in a landslide victory .".split()) + "\n")
    grams = collect_typed.excluded_ngrams(tmp_path)
    same = "Then the party won the 2004 federal election in a landslide".split()
    other = "The party lost the 2008 federal election by a small margin .".split()
    assert collect_typed._ngrams(same) & grams and not collect_typed._ngrams(other) & grams


def test_partial_rows_leave_unmarked_names_out_of_the_loss_and_keep_wrong_boundaries_negative():
    row = {"set": "RelationTypes", "partial": True, "spans": [[1, 5, "election"]],
           "tokens": "In the 1997 presidential election , Mary McAleese won .".split()}
    maybe = training.unmarked_names(row, 4)
    assert maybe[6, 1] and maybe[6, 0]  # "Mary McAleese" may be an election too, for all we know: not taught
    assert not maybe[2, 2]  # "1997 presidential election" overlaps the marked name: a wrong boundary, a negative
    assert not maybe[8, 0] and not maybe[5, 0]  # common words stay negatives
    lower = {**row, "tokens": [t.lower() for t in row["tokens"]]}
    assert training.unmarked_names(lower, 4)[8, 0]  # with no capitals any word may start a name


def test_a_partial_row_is_trained_against_its_own_types_only(monkeypatch):
    monkeypatch.setattr(training, "DROP_TYPE", 0.0)
    typed = {"set": "RelationTypes", "partial": True, "tokens": "Smith joined the Labour Party .".split(),
             "spans": [[0, 1, "politician"], [2, 5, "political party"]]}
    full = {"set": "Full", "tokens": "Smith met Jones .".split(), "spans": [[0, 1, "PER"]]}
    rows = [typed, full]
    phrases = {("RelationTypes", "politician"): "politician", ("RelationTypes", "political party"): "political party",
               ("RelationTypes", "river"): "river", ("Full", "PER"): "person", ("Full", "LOC"): "location"}
    vecs = {p: np.ones(8, np.float32) for p in phrases.values()}
    words = np.zeros((sum(len(r["tokens"]) for r in rows), 4), np.float16)
    batches = training.Batches(rows, words, np.array([0, 6]), phrases, vecs, 4, random.Random(0))
    for _ in range(20):  # the type drawn as absent is never "river" for the partial row
        *_, type_mask, gold, ignore = batches.tensors([0, 1])
        assert type_mask[0].sum() <= 2
        assert ignore[0, 0, 0].sum() == 0  # the marked names are taught
    assert gold[0, 2, 2].sum() == 1 and gold[0, 0, 0].sum() == 1
