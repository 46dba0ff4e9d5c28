"""REAMO's meta-response format: typed calls -> text -> the same typed calls, for any
arguments (property tests), and text that is malformed in any way never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from muie.reasoner.meta_response import parse, render
from muie.tools import TOOL_CALL

ids = st.sampled_from(["text", "image0", "audio0", "image1", "audio0#speech"])
words = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s)  # anything, tags and quotes too
seconds = st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False)


@st.composite
def spans(draw):  # type: ignore[no-untyped-def]
    start = draw(st.integers(0, 10_000))
    return start, start + draw(st.integers(1, 5_000))


@st.composite
def calls(draw):  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["ner", "segment_image", "transcribe", "segment_audio", "read_text", "detect_sounds"]))
    if kind == "ner":
        s, e = draw(spans())
        raw = {"tool": "recognize_entities.v1", "arguments": {
            "input": draw(ids), "start": s, "end": e, "entity_types": draw(st.lists(words, min_size=1, max_size=4)),
            "nominals": draw(st.sampled_from(["uncovered", "all"]))}}
    elif kind == "segment_image":
        raw = {"tool": "segment_image.v1", "arguments": {
            "input": draw(ids), "text": draw(words), "max_regions": draw(st.integers(1, 100))}}
    elif kind == "transcribe":
        raw = {"tool": "transcribe.v1", "arguments": {"input": draw(ids), "hints": draw(st.lists(words, max_size=5))}}
    elif kind == "segment_audio":
        lo = draw(seconds)
        raw = {"tool": "segment_audio.v1", "arguments": {
            "input": draw(ids), "target": draw(words), "start_s": lo, "end_s": lo + draw(st.floats(0.01, 60)),
            "kind": draw(st.sampled_from(["auto", "phrase", "sound"]))}}
    elif kind == "read_text":
        raw = {"tool": "read_text.v1", "arguments": {"input": draw(ids)}}
    else:
        raw = {"tool": "detect_sounds.v1", "arguments": {
            "input": draw(ids), "threshold": draw(st.floats(0, 1)),
            "classes": draw(st.none() | st.lists(words, min_size=1, max_size=3))}}
    return TOOL_CALL.validate_python(raw)


def dumped(cs):  # type: ignore[no-untyped-def]
    return [c.model_dump(mode="json") for c in cs]


@settings(max_examples=200, deadline=None)
@given(st.lists(calls(), max_size=5))
def test_round_trip(cs) -> None:  # type: ignore[no-untyped-def]
    text = render(cs)
    back = parse(text)
    assert back.errors == []
    assert dumped(back.calls) == dumped(cs)


@settings(max_examples=200, deadline=None)
@given(st.lists(calls(), min_size=1, max_size=3), st.text(st.characters(blacklist_characters="<"), max_size=80),
       st.text(st.characters(blacklist_characters="<"), max_size=80))
def test_calls_survive_prose_around_and_between_them(cs, before, after) -> None:  # type: ignore[no-untyped-def]
    blocks = render(cs).split("\n")
    text = before + (" " + after + " ").join(blocks) + after
    assert dumped(parse(text).calls) == dumped(cs)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300) | st.lists(st.sampled_from(
    ["<Module>", "</Module>", "<Instruction>", "</Instruction>", "segment_image.v1", "{", "}", '"input"', ":",
     '"image0"', "read_text", "SEEM", "garbage", " ", "\n", "<module >", "</ instruction>", '{"input": "image0"}']),
    max_size=30).map("".join))
def test_malformed_text_never_raises(text) -> None:  # type: ignore[no-untyped-def]
    out = parse(text)
    for c in out.calls:  # whatever it reads is a valid call
        assert TOOL_CALL.validate_python(c.model_dump()) == c
    assert all(isinstance(e, str) and e.startswith("block ") for e in out.errors)


def test_each_bad_block_is_named_and_the_good_ones_kept() -> None:
    text = ("I will look at the image.\n"
            "<Module>Teleport</Module><Instruction>{}</Instruction>\n"
            "<module> SEEM </module> <instruction>image0: the coffee cup</instruction>\n"
            "<Module>read_text</Module><Instruction>{\"input\": \"image0\",}</Instruction>\n"
            "<Module>segment_audio.v1</Module><Instruction>{\"input\": \"audio0\", \"target\": \"NASA\", "
            "\"kind\": \"loud\"}</Instruction>\n"
            "<Module>read_text.v1</Module>\n"
            "<Module>transcribe.v1</Module><Instruction>{\"input\": \"audio0\"}")  # closing tag lost at the end
    out = parse(text)
    got = [(c.tool, c.arguments.input) for c in out.calls]
    assert got == [("segment_image.v1", "image0"), ("transcribe.v1", "audio0")]
    assert out.calls[0].arguments.text == "the coffee cup"
    assert len(out.errors) == 4
    assert "unknown module 'Teleport'" in out.errors[0]
    assert "not valid JSON" in out.errors[1]
    assert "kind" in out.errors[2]
    assert "no <Instruction>" in out.errors[3]


def test_rendered_text_reads_as_reamo_writes_it() -> None:
    call = TOOL_CALL.validate_python(
        {"tool": "segment_image.v1", "arguments": {"input": "image0", "text": "a <b> & c"}})
    text = render([call])
    assert text.startswith("<Module>segment_image.v1</Module><Instruction>{") and text.endswith("}</Instruction>")
    assert "<b>" not in text
