"""KnowledgeNet's HTML table (the format of its human_readable archive) read into relation rows."""

from __future__ import annotations

from muie.training.collect_knowledgenet import rows


def _row(doc: str, start: str, prop: str, passage: str) -> str:
    cells = [doc[-1], doc, start, "200", "0", "0", "0", "0", prop, f"<p> {passage}</p>"]
    return "<tr>" + "".join(f'<td style="text-align: right;">{c}</td>' for c in cells) + "</tr>\n"


TABLE = "<table><tbody>\n" + "".join([
    _row("doc1", "10", "CEO", '<span id="object">Tim Cook</span> runs '
         '<span id="subject"><a href="http://www.wikidata.org/entity/Q312">Apple</a></span> &amp; more.'),
    _row("doc2", "0", "SPOUSE", "A passage whose marks the table lost."),
]) + "</tbody></table>"


def test_a_fact_is_a_labelled_pair_in_the_sets_direction_and_unmarked_rows_are_left_out():
    (row,) = rows(TABLE)
    assert row["tokens"] == ["Tim", "Cook", "runs", "Apple", "&", "more", "."]  # links and entities undone
    assert row["pairs"] == [[3, 4, 0, 2, "CEO"]]  # subject Apple, object Tim Cook
    assert row["mentions"] == [[0, 2], [3, 4]] and row["exhaustive"] and row["set"] == "KnowledgeNet"


def test_two_facts_of_one_passage_share_its_row():
    passage = '<span id="subject">Apple</span> hired <span id="object">Tim Cook</span>.'
    other = 'Apple hired <span id="subject">Tim Cook</span>.'.replace("Apple", '<span id="object">Apple</span>')
    table = "<tbody>" + _row("doc3", "0", "CEO", passage) + _row("doc3", "0", "EMPLOYEE_OR_MEMBER_OF", other)
    (row,) = rows(table + "</tbody>")
    assert row["tokens"] == ["Apple", "hired", "Tim", "Cook", "."]
    assert row["pairs"] == [[0, 1, 2, 4, "CEO"], [2, 4, 0, 1, "EMPLOYEE_OR_MEMBER_OF"]]
    assert row["mentions"] == [[0, 1], [2, 4]]
