"""Loading gold and predicted cases, and pairing them.

A case is a contract result (``agent.domain.Result``) with, optionally, an ``id`` and
the ``text`` of its text input at top level; other extra top-level keys are ignored.
``load_cases`` reads:

- a ``.json`` file: one case (or a JSON list of cases);
- a ``.jsonl`` file: one case a line (blank lines skipped);
- a folder: every ``*.json`` in it, one case each, the file name (stem) being its id;
- CoNLL / BIO (``.conll``, ``.bio``, or a file whose first line is ``token<TAB>tag``):
  each sentence a gold case ``s{index}`` (0-based) with its text and one text entity
  per tagged span, read with ``agent/scoring/conll.py``.

Every problem is an ``InputError`` naming the file (and the line of a JSONL file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from muie.agent.scoring.conll import read_conll
from muie.domain import Entity, Mention, Result, TextInput
from muie.errors import InputError

_RESULT_KEYS = set(Result.model_fields)


@dataclass(eq=False)
class Case:
    """One case: its result, its id (None when it has none) and where it was read."""

    result: Result
    id: str | None = None
    text: str | None = None
    path: str = "<memory>"
    line: int | None = None

    @property
    def where(self) -> str:
        return self.path if self.line is None else f"{self.path}: line {self.line}"


def _loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def case_from_obj(obj: Any, path: str, line: int | None = None, case_id: str | None = None) -> Case:
    """Validate one decoded JSON value as a case; ``InputError`` naming where it was read when it is not."""
    where = f"line {line}: " if line is not None else ""
    if isinstance(obj, Result):
        return Case(obj, case_id, None, path, line)
    if not isinstance(obj, dict):
        raise InputError(path, f"{where}a JSON {type(obj).__name__}, not a contract result (an object)")
    cid = obj.get("id", case_id) if case_id is None else case_id
    text = obj.get("text")
    if cid is not None and not isinstance(cid, (str, int)):
        raise InputError(path, f"{where}'id' must be a string, not {type(cid).__name__}")
    if text is not None and not isinstance(text, str):
        raise InputError(path, f"{where}'text' must be a string, not {type(text).__name__}")
    try:
        result = Result.model_validate({k: v for k, v in obj.items() if k in _RESULT_KEYS})
    except ValidationError as e:
        err = e.errors()[0]
        raise InputError(path, f"{where}not a contract result: {_loc(err['loc'])}: {err['msg']}") from None
    return Case(result, None if cid is None else str(cid), text, path, line)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(str(path), "is not UTF-8 text") from None
    except OSError as e:
        raise InputError(str(path), f"cannot be read ({e.strerror or e})") from None


def _json_file(path: Path) -> list[Case]:
    raw = _read_text(path)
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(str(path), f"line {e.lineno}: not JSON ({e.msg})") from None
    if isinstance(obj, list):
        cases = []
        for n, item in enumerate(obj):
            try:
                cases.append(case_from_obj(item, str(path)))
            except InputError as err:
                raise InputError(str(path), f"item {n}: {err.reason}") from None
        return cases
    return [case_from_obj(obj, str(path))]


def _jsonl_file(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(str(path), f"line {n}: not JSON ({e.msg} at column {e.colno})") from None
        cases.append(case_from_obj(obj, str(path), n))
    return cases


def _conll_file(path: Path) -> list[Case]:
    try:
        sentences = read_conll(path)
    except UnicodeDecodeError:
        raise InputError(str(path), "is not UTF-8 text") from None
    except ValueError as e:
        m = re.match(r".*?:(\d+): (.*)$", str(e))
        raise InputError(str(path), f"line {m.group(1)}: {m.group(2)}" if m else str(e)) from None
    cases = []
    for i, s in enumerate(sentences):
        ents = [Entity(id=f"T{k + 1}", text=s.text[a:b], type=t, mentions=[Mention(start=a, end=b)])
                for k, (a, b, t) in enumerate(s.spans)]
        cases.append(Case(Result(inputs=[TextInput()], entities=ents), f"s{i}", s.text, str(path)))
    return cases


def _sniff(path: Path) -> str:
    """The format of a file by its extension, else by its first non-blank line."""
    suffix = path.suffix.lower()
    if suffix in (".conll", ".bio"):
        return "conll"
    if suffix in (".json", ".jsonl"):
        return suffix[1:]
    first = next((ln for ln in _read_text(path).splitlines() if ln.strip()), "")
    if first.lstrip().startswith(("{", "[")):
        try:
            json.loads(_read_text(path))
            return "json"
        except json.JSONDecodeError:
            return "jsonl"
    if "\t" in first:
        return "conll"
    raise InputError(str(path), "unknown format: expected .json, .jsonl, a folder of .json, or token<TAB>tag lines")


def load_cases(path: str | Path) -> list[Case]:
    """Read the cases of a file or a folder (see the module's docstring)."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), "no such file or folder")
    if p.is_dir():
        files = sorted(f for f in p.glob("*.json") if f.is_file())
        if not files:
            raise InputError(str(p), "folder holds no *.json file")
        cases = []
        for f in files:
            found = _json_file(f)
            if len(found) != 1:
                raise InputError(str(f), f"holds {len(found)} cases; a folder takes one case per file")
            found[0].id = f.stem
            cases.append(found[0])
        return cases
    kind = _sniff(p)
    cases = {"json": _json_file, "jsonl": _jsonl_file, "conll": _conll_file}[kind](p)
    if not cases:
        raise InputError(str(p), "holds no case")
    return cases


def as_case(item: Case | Result | dict[str, Any], n: int) -> Case:
    """A ``Case`` of what the Python API was given: a Case, a Result or a JSON object."""
    return item if isinstance(item, Case) else case_from_obj(item, f"case {n}")


def _at(case: Case, reason: str) -> str:
    return reason if case.line is None else f"line {case.line}: {reason}"


def pair_cases(gold: Sequence[Case], pred: Sequence[Case]) -> tuple[list[tuple[Case, Case | None]], list[str]]:
    """Pair each gold case with its prediction: by id when both sides have ids, else by order.

    A gold case with no prediction pairs with None (scored as empty) and gives a warning;
    a prediction with no gold case, a repeated id, or (by order) unequal counts is an InputError.
    """
    if gold and pred and all(c.id is not None for c in [*gold, *pred]):
        for side in (gold, pred):
            seen: dict[str | None, Case] = {}
            for c in side:
                if c.id in seen:
                    raise InputError(c.path, _at(c, f"case id {c.id!r} repeats (first at {seen[c.id].where})"))
                seen[c.id] = c
        gold_ids = {c.id for c in gold}
        for c in pred:
            if c.id not in gold_ids:
                raise InputError(c.path, _at(c, f"unknown case id {c.id!r}: no gold case has it ({gold[0].path})"))
        by_id = {c.id: c for c in pred}
        pairs = [(g, by_id.get(g.id)) for g in gold]
        warnings = [f"no prediction for gold case {g.id!r}: scored as an empty prediction"
                    for g, p in pairs if p is None]
        return pairs, warnings
    if len(gold) != len(pred):
        raise InputError(pred[0].path if pred else "prediction",
                         f"mismatch of case counts: {len(pred)} predictions for {len(gold)} gold cases "
                         "(give every case an 'id' to match them by id)")
    return list(zip(gold, pred)), []
