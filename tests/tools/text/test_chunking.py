"""``chunk_text``: chunks that fit, cover every non-blank character once, in order,
never start or end in whitespace, and never cut a word that fits in a chunk."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muie.tools.text.chunking import chunk_text

WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'-,;:\"()"
SEPARATORS = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\n \n", "\n\n\n", ". ", "! ", "? ", ".\n", '." ', "\t"]


@st.composite
def texts(draw, max_word: int | None = None):
    """Text made of words, spaces, line breaks, blank lines and sentence punctuation,
    with an optional ceiling on word length."""
    max_chars = draw(st.integers(min_value=200, max_value=600))
    # a separator may glue up to two characters of punctuation to a word ('." '): keep every
    # whitespace-separated token shorter than max_chars
    top = max_word if max_word is not None else max_chars - 3
    word_len = st.one_of(st.integers(1, 12), st.integers(1, top))  # mostly short words, some long ones
    n = draw(st.integers(min_value=0, max_value=400))
    parts: list[str] = [draw(st.sampled_from(["", " ", "\n", "\n\n  "]))]
    for _ in range(n):
        length = draw(word_len)
        parts.append(draw(st.text(alphabet=WORD_CHARS, min_size=length, max_size=length)))
        parts.append(draw(st.sampled_from(SEPARATORS)))
    parts.append(draw(st.sampled_from(["", " ", "\n", ".", "\n\n"])))
    return "".join(parts), max_chars


def check_invariants(text: str, max_chars: int, chunks: list[tuple[int, int]]) -> None:
    n = len(text)
    covered = [0] * n
    prev_end = 0
    for start, end in chunks:
        assert 0 <= start < end <= n, (start, end, n)
        assert end - start <= max_chars, f"chunk [{start}, {end}) is {end - start} > {max_chars}"
        assert start >= prev_end, f"chunk [{start}, {end}) overlaps or precedes one ending at {prev_end}"
        assert not text[start].isspace(), f"chunk [{start}, {end}) starts with whitespace"
        assert not text[end - 1].isspace(), f"chunk [{start}, {end}) ends with whitespace"
        for i in range(start, end):
            covered[i] += 1
        prev_end = end
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert covered[i] == 1, f"character {i} {ch!r} lies in {covered[i]} chunks"


def check_no_word_cut(text: str, chunks: list[tuple[int, int]]) -> None:
    n = len(text)
    for start, end in chunks:
        if start > 0:
            assert text[start - 1].isspace(), (
                f"chunk [{start}, {end}) starts inside a word: "
                f"...{text[max(0, start - 15):start]!r}|{text[start:start + 15]!r}")
        if end < n:
            assert text[end].isspace(), (
                f"chunk [{start}, {end}) ends inside a word: {text[max(0, end - 15):end]!r}|{text[end:end + 15]!r}...")


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts())
def test_chunks_fit_are_ordered_and_cover_every_character_once(case):
    text, max_chars = case
    check_invariants(text, max_chars, chunk_text(text, max_chars))


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts())
def test_no_word_is_cut_when_every_word_is_shorter_than_a_chunk(case):
    """Tokens may be up to ``max_chars - 1`` long: each fits in a chunk, so none may be cut."""
    text, max_chars = case
    assert all(len(w) < max_chars for w in text.split())
    check_no_word_cut(text, chunk_text(text, max_chars))


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts(max_word=40))
def test_no_word_is_cut_in_ordinary_prose(case):
    """The common case, words of at most 40 characters."""
    text, max_chars = case
    chunks = chunk_text(text, max_chars)
    check_invariants(text, max_chars, chunks)
    check_no_word_cut(text, chunks)


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(200, 600), st.integers(1, 5), st.data())
def test_overlong_words_are_still_fully_covered(max_chars, n_words, data):
    words = [data.draw(st.text(alphabet="abcxyz", min_size=1, max_size=3 * max_chars)) for _ in range(n_words)]
    text = " ".join(words)
    check_invariants(text, max_chars, chunk_text(text, max_chars))


# --------------------------------------------------------------------------- examples


def test_paragraph_breaks_are_preferred_cut_points():
    para = ("word " * 30).strip() + "."  # 150 characters
    text = "\n\n".join([para, para, para])
    # 320 would reach into the second paragraph's sentence ends and spaces; the blank line wins
    chunks = chunk_text(text, 320)
    check_invariants(text, 320, chunks)
    assert [text[s:e] for s, e in chunks] == [para + "\n\n" + para, para]


def test_paragraph_break_beats_a_later_line_break_and_sentence_end():
    first = "Alpha beta gamma delta. " * 6 + "End of one."       # a paragraph of ~155 chars
    second = "Line one here.\nLine two here. More words follow. " * 5  # lines and sentences
    text = first + "\n\n" + second
    max_chars = 300
    chunks = chunk_text(text, max_chars)
    check_invariants(text, max_chars, chunks)
    assert text[chunks[0][0]:chunks[0][1]] == first


def test_line_break_is_preferred_over_a_space():
    line = ("abc " * 40).strip()  # 159 characters
    text = line + "\n" + line + "\n" + line
    chunks = chunk_text(text, 200)
    check_invariants(text, 200, chunks)
    assert [text[s:e] for s, e in chunks] == [line, line, line]


def test_short_text_is_one_chunk():
    text = "  Marie Curie was born in Warsaw.\n\nShe moved to Paris.  \n"
    chunks = chunk_text(text, 200)
    assert len(chunks) == 1
    s, e = chunks[0]
    assert text[s:e] == "Marie Curie was born in Warsaw.\n\nShe moved to Paris."


def test_text_of_exactly_max_chars_is_one_chunk():
    text = ("word " * 60)[:299] + "x"
    assert len(text) == 300
    assert chunk_text(text, 300) == [(0, 300)]


def test_all_whitespace_text_gives_no_chunks():
    assert chunk_text("", 200) == []
    assert chunk_text("   \n\n\t  \n ", 200) == []
    assert chunk_text(" " * 5000, 300) == []


def test_a_single_word_longer_than_max_chars_is_fully_covered():
    word = "x" * 1234
    chunks = chunk_text(word, 300)
    check_invariants(word, 300, chunks)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(word)
    assert "".join(word[s:e] for s, e in chunks) == word


def test_a_long_word_among_short_ones_is_covered_and_short_words_are_not_cut():
    long_word = "y" * 700
    text = "short words here " + long_word + " and more short words after it"
    chunks = chunk_text(text, 250)
    check_invariants(text, 250, chunks)
    covered = "".join(text[s:e] for s, e in chunks).replace(" ", "")
    assert covered == text.replace(" ", "")
    # every short word lies whole inside one chunk
    pos = 0
    for word in text.split():
        start = text.index(word, pos)
        pos = start + len(word)
        if len(word) < 250:
            assert any(s <= start and pos <= e for s, e in chunks), f"{word!r} at {start} was cut: {chunks}"


def test_a_word_that_fits_is_not_cut_when_the_only_space_is_early_in_the_window():
    """Found by the property test above: the only cut points in reach lie in the first
    half of the window, after which the chunker cuts hard at ``max_chars``, through a
    150-character word that would fit in a chunk of its own."""
    text = "Some words here. " * 3 + "w" * 150 + " tail"  # 206 characters
    chunks = chunk_text(text, 200)
    check_invariants(text, 200, chunks)
    check_no_word_cut(text, chunks)
    assert chunks == [(0, 50), (51, 206)]
