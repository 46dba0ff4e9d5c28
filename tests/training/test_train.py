"""The training code path end to end on a tiny set: real encoder, real torch model, real
ONNX file, loaded as the shipped model is."""

from __future__ import annotations

import onnx
import pytest

from muie.tools.models import entity_model as em
from muie.tools.models.entity_model import EntityModel
from muie.tools.models.sentence_onnx import encoder
from muie.training import train as training
from muie.training.collect import name_like


@pytest.fixture(scope="module")
def tiny_rows() -> list[dict]:
    rows = [r for r in training.read_rows(training.DATA) if r["set"] in ("CoNLL2003", "BC5CDR")]
    return rows[:24] + [r for r in rows if r["set"] == "BC5CDR"][:24]


def test_training_runs_end_to_end_and_writes_a_model_that_loads(tmp_path, tiny_rows):
    out = tmp_path / "tiny.onnx"
    meta = training.train(tiny_rows, dev=[], epochs=4, dim=32, out=out, cache=tmp_path / "cache")
    assert out.is_file() and out.stat().st_size < 2_000_000
    assert meta["sentences"] == 48 and meta["best_epoch"] == 4
    losses = meta["losses"]
    assert len(losses) == 4 and losses[-1] < 0.8 * losses[0]  # it learned something from the 48 sentences
    assert {p.key for p in onnx.load(str(out)).metadata_props} == {"muie"}
    model = EntityModel(out)
    assert model.max_width == 12 and model.meta["dim"] == 32
    spans = model.predict([["Aspirin", "caused", "nausea", "in", "Paris", "."]],
                          encoder().encode(["chemical", "disease", "location"]), threshold=0.0)
    assert spans[0] and all(0 <= a < b <= 6 and 0 <= t < 3 and 0 <= p <= 1 for a, b, t, p in spans[0])


def test_the_same_seed_gives_the_same_weights(tmp_path, tiny_rows):
    a = training.train(tiny_rows[:16], dev=[], epochs=1, dim=16, out=tmp_path / "a.onnx", cache=tmp_path / "c")
    b = training.train(tiny_rows[:16], dev=[], epochs=1, dim=16, out=tmp_path / "b.onnx", cache=tmp_path / "c")
    assert a["losses"] == b["losses"]
    wa = {i.name: i.raw_data for i in onnx.load(str(tmp_path / "a.onnx")).graph.initializer}
    wb = {i.name: i.raw_data for i in onnx.load(str(tmp_path / "b.onnx")).graph.initializer}
    assert wa == wb


def test_mentions_kept_from_sets_that_also_mark_common_nouns():
    assert name_like(["Elizabeth", "Bennet"]) and name_like(["the", "Thames"])
    assert not name_like(["the", "old", "man"]) and not name_like(["He"]) and not name_like(["The", "house"])


def test_the_decoding_is_chosen_on_dev_sentences_and_written_into_the_weights(tmp_path, tiny_rows):
    from muie.training import choose
    from muie.training.devsets import DevSentence, DevSet

    out = tmp_path / "t.onnx"
    training.train(tiny_rows[:16], dev=[], epochs=1, dim=16, out=out, cache=tmp_path / "c")
    model = EntityModel(out)
    dev = [DevSet("tiny", [DevSentence(["Aspirin", "caused", "nausea", "."], {(0, 1, "chemical"), (2, 3, "disease")})],
                  ["chemical", "disease"])]
    chosen = choose.choose(model._score, model.max_width, dev)
    assert chosen["threshold"] in choose.THRESHOLDS and isinstance(chosen["broad_give_way"], bool)
    assert chosen["narrow_takes"] in (*choose.NARROW, em.NARROW_TAKES) and chosen["outer_takes"] in choose.OUTER
    assert set(chosen["dev_f1"]) == {"tiny"}
    meta = choose.write_meta(out, chosen | {"broad_give_way": True, "outer_takes": 0.6})
    again = EntityModel(out)
    assert again.broad_give_way and again.threshold == chosen["threshold"] and meta["dim"] == 16
    assert again.outer_takes == 0.6 and again.narrow_takes == chosen["narrow_takes"]


def test_an_outer_span_replaces_the_spans_it_holds_at_the_share_the_weights_chose():
    inner, outer, other = (2, 4, 0, 0.9), (0, 5, 1, 0.5), (4, 6, 2, 0.95)
    assert em.decode([inner, outer]) == [inner]  # weights that do not say: the best span wins
    assert em.decode([inner, outer], 0.5) == [outer]  # 0.5 >= 0.5 x 0.9
    assert em.decode([inner, outer], 0.6) == [inner]
    assert em.decode([inner, outer, other], 0.4) == [inner, other]  # "outer" also overlaps a span it does not hold
    two = (0, 1, 0, 0.8)
    assert em.decode([inner, two, outer], 0.1) == [two, inner]  # one span over two names ("Amazon bought Whole Foods")
