"""The pair model's training path end to end on a tiny set: real encoder, real torch model,
real ONNX file, loaded and run as the shipped one is."""

from __future__ import annotations

import numpy as np

from muie.tools.models.pair_model import PairModel
from muie.tools.models.sentence_onnx import encoder
from muie.training import train_pairs

# (words, head, tail, label): a person and the company they work for, a company and its city
FACTS = [
    ("Tim Cook works for Apple .", (0, 2), (4, 5), "employer"),
    ("Satya Nadella leads Microsoft today .", (0, 2), (3, 4), "employer"),
    ("Apple is based in Cupertino .", (0, 1), (4, 5), "headquarters location"),
    ("Microsoft is based in Redmond .", (0, 1), (4, 5), "headquarters location"),
    ("Sundar Pichai runs Google in Mountain View .", (0, 2), (3, 4), "employer"),
    ("Google has its offices in Mountain View .", (0, 1), (5, 7), "headquarters location"),
]


def rows() -> list[dict]:
    out = []
    for k in range(4):
        for text, (hs, he), (ts, te), label in FACTS:
            out.append({"set": f"tiny{k % 2}", "tokens": text.split(), "pairs": [[hs, he, ts, te, label]],
                        "mentions": [[hs, he], [ts, te]], "exhaustive": True})
    return out


def test_training_runs_end_to_end_and_writes_a_model_that_loads(tmp_path):
    out = tmp_path / "pairs.onnx"
    data = rows()
    meta = train_pairs.train(data, data[:6], epochs=16, dim=32, out=out, cache=tmp_path / "cache")
    assert out.is_file() and out.stat().st_size < 3_000_000
    losses = meta["losses"]
    assert len(losses) == 16 and losses[-1] < 0.8 * losses[0]  # it learned from the 24 sentences
    assert meta["threshold"] in train_pairs.THRESHOLDS and 0 <= meta["dev_f1"] <= 1
    model = PairModel(out)
    tokens = [["Tim", "Cook", "works", "for", "Apple", "."]]
    probs = model.score(tokens, [[((0, 2), (4, 5)), ((4, 5), (0, 2))]],
                        encoder().encode(["employer", "headquarters location"]))[0]
    assert probs.shape == (2, 2) and np.all((probs >= 0) & (probs <= 1))
    assert probs[0, 0] > probs[1, 0]  # the direction is learned: the person works for the company


def test_the_same_seed_gives_the_same_losses(tmp_path):
    data = rows()[:12]
    a = train_pairs.train(data, [], epochs=1, dim=16, out=tmp_path / "a.onnx", cache=tmp_path / "c")
    b = train_pairs.train(data, [], epochs=1, dim=16, out=tmp_path / "b.onnx", cache=tmp_path / "c")
    assert a["losses"] == b["losses"]


def test_a_ceo_is_also_taught_as_the_organisations_employee():
    rows = train_pairs.with_implied([{"set": "KnowledgeNet", "tokens": "Apple chief executive Tim Cook".split(),
                                      "pairs": [[0, 1, 3, 5, "CEO"]], "mentions": [[0, 1], [3, 5]],
                                      "exhaustive": True}])
    assert rows[0]["pairs"] == [[0, 1, 3, 5, "CEO"], [3, 5, 0, 1, "EMPLOYEE_OR_MEMBER_OF"]]
    again = train_pairs.with_implied(rows)  # added once
    assert again[0]["pairs"] == [[0, 1, 3, 5, "CEO"], [3, 5, 0, 1, "EMPLOYEE_OR_MEMBER_OF"]]


def test_knowledgenet_labels_are_also_read_as_their_wikidata_names_and_aliases():
    names = train_pairs.other_names({"employer": ["works for", "employed by"], "member of": ["membership"]})
    assert names["EMPLOYEE_OR_MEMBER_OF"] == ["employer", "works for", "employed by", "member of", "membership"]
    assert names["CEO"] == ["chief executive officer", "CEO", "chief executive"]
    assert set(names) == {label for r in train_pairs.read_rows(train_pairs.KNOWLEDGENET) for *_, label in r["pairs"]}
