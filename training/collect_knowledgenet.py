"""KnowledgeNet's facts as relation rows (run once; the output is committed).

    python -m muie.training.collect_knowledgenet FOLDER

FOLDER is a checkout of diffbot/knowledge-net (``training/sources_pairs.yaml``); its
``human_readable-v10-notest.zip`` holds the training folds as an HTML table, one fact a
row: the passage, with the fact's subject and object marked, and its property
(``EMPLOYEE_OR_MEMBER_OF``, ``CEO``, ``FOUNDED_BY``, ``HEADQUARTERS``, ... 15 of them, read
as phrases by ``type_names``). The facts of one passage make one row: its words, each
fact's (subject, object) pair labelled with its property, and every other pair of the
passage's marked mentions taught as no relation, since KnowledgeNet marks every fact of
its properties in a passage (``exhaustive``). Rows whose passage has no marked spans
(the subject and object drawn over each other in the table) are left out, as is a fact
whose passage reads otherwise than the first row of the same passage.
"""

from __future__ import annotations

import html
import io
import random
import re
import sys
import zipfile
from pathlib import Path

from muie.tools.models.word_features import split_words
from muie.tools.text.extract_relations_v2 import word_span
from muie.training.collect_pairs import write

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "relations-knowledgenet.jsonl.gz"
SEED = 13
_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
_MARK = re.compile(r'<span id="(subject|object)">(.*?)</span>', re.S)


def _passage(cell: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """The passage's text and the character spans of its marked subject and object."""
    para = re.sub(r"</p>\s*$", "", re.sub(r"^\s*<p>\s?", "", cell))
    para = re.sub(r"</?a[^>]*>", "", para)
    text, spans, pos = "", {}, 0
    for m in _MARK.finditer(para):
        text += html.unescape(para[pos:m.start()])
        inner = html.unescape(m.group(2))
        spans[m.group(1)] = (len(text), len(text) + len(inner))
        text += inner
        pos = m.end()
    return text + html.unescape(para[pos:]), spans


def rows(table: str) -> list[dict]:
    """One row per passage with at least one fact whose two mentions were marked."""
    passages: dict[tuple[str, ...], tuple[str, list]] = {}
    for r in _ROW.findall(table[table.index("<tbody"):]):
        cells = _CELL.findall(r)
        if len(cells) < 10:
            continue
        text, spans = _passage(cells[9])
        if len(spans) != 2:
            continue
        text0, facts = passages.setdefault((cells[1], cells[2], cells[3]), (text, []))
        if text0 == text:
            facts.append((spans["subject"], spans["object"], cells[8].strip()))
    out = []
    for text, facts in passages.values():
        words = split_words(text)
        pairs: list[list] = []
        mentions: set[tuple[int, int]] = set()
        for subject, obj, prop in facts:
            h, t = word_span(words, *subject), word_span(words, *obj)
            if h and t and (h[1] <= t[0] or t[1] <= h[0]) and [*h, *t, prop] not in pairs:
                pairs.append([*h, *t, prop])
                mentions |= {h, t}
        if pairs:
            out.append({"set": "KnowledgeNet", "tokens": [text[a:b] for a, b in words], "pairs": pairs,
                        "mentions": [list(m) for m in sorted(mentions)], "exhaustive": True})
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    archive = Path(args[0]) / "human_readable-v10-notest.zip" if len(args) == 1 else None
    if archive is None or not archive.is_file():
        print("usage: python -m muie.training.collect_knowledgenet FOLDER (with human_readable-v10-notest.zip)",
              file=sys.stderr)
        return 2
    with zipfile.ZipFile(archive) as z:
        name = next(n for n in z.namelist() if n.endswith(".html") and not n.startswith("__MACOSX"))
        table = io.TextIOWrapper(z.open(name), encoding="utf-8").read()
    out = rows(table)
    random.Random(SEED).shuffle(out)
    write(out, OUT)
    print(f"{OUT.name}: {len(out)} passages, {sum(len(r['pairs']) for r in out)} facts")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
