"""Head-noun types: which spans are positives, which are left out of the loss."""

import random

from muie.training import heads


def _row(tokens: str, spans: list[tuple[int, int, str]]) -> dict:
    return {"set": "x", "tokens": tokens.split(), "spans": spans}


def test_the_head_noun_of_a_multi_word_name_is_its_fine_type() -> None:
    toks = "the Labour Party won".split()
    assert heads.head(toks, 1, 3) == "party"
    assert heads.head(toks, 1, 2) is None  # one word says nothing of its kind
    assert heads.head("New York Times".split(), 0, 3) is None  # "times" is not a kind


def test_vocabulary_keeps_common_nouns_that_end_names_not_surnames() -> None:
    rows = [_row("the Labour Party and John Smith met a party", [(1, 3, "ORG"), (4, 6, "PER")])] * 10
    vocab = heads.vocabulary(rows)
    assert vocab == {"party": 10}  # "smith" never occurs in lower case


def test_a_name_of_the_same_set_type_without_the_head_is_neither_positive_nor_negative() -> None:
    row = _row("the Labour Party beat the Tories and Paris",
               [(1, 3, "ORG"), (5, 6, "ORG"), (7, 8, "LOC")])
    pos, ignored, types = heads.labels(row, {"party": 10, "river": 10}, random.Random(0))
    assert pos == [(1, 3, "party")]
    assert ignored == [(5, 6, "party")]  # the Tories may be a party too
    assert types[0] == "party" and "river" in types  # an absent head type is drawn as a negative
    assert (7, 8, "party") not in ignored  # Paris, a location, is a negative of "party"
