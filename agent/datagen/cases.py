"""What ``muie datagen`` reads: annotated cases, their schema, and the work they make.

Cases are read by ``agent.scoring.load_cases`` (contract-format gold: a result JSON, a
JSONL of cases, a folder of ``*.json``; or CoNLL/BIO text). The schema is ``--schema``,
else ``schema.json`` beside the annotated file (or in the annotated folder), else the
types the gold uses. Each case gives ``variants`` jobs; a job's key is the hash of the
case id, its content (gold, text, schema), the mode and the variant, so a rerun knows
what it has done and a changed case is made again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from muie.agent.datagen.answer import GoldView, gold_view
from muie.agent.datagen.record import digest
from muie.agent.scoring import Case, load_cases
from muie.domain import Result, Schema
from muie.errors import InputError

MODALITY_WORDS = {"text": ("the text", "the texts"), "image": ("the image", "the images"),
                  "audio": ("the recording", "the recordings"), "video": ("the video", "the videos")}


@dataclass
class Job:
    """One record to make: a case, a variant, and the key it is known by."""

    case: Case
    case_id: str
    variant: int
    mode: str
    key: str
    schema: Schema
    source: str
    content: str = ""  # hash of what the case says (gold, text, schema), whatever its id

    @cached_property
    def gold(self) -> GoldView:
        return gold_view(self.case.result)


def load_annotated(path: Path, schema_path: Path | None = None) -> tuple[list[Case], Schema]:
    """The cases of ``path`` (each given an id: its own, else ``case<n>``) and their schema."""
    from muie.agent.inputs import read_schema_file

    cases = load_cases(path)
    seen: dict[str, Case] = {}
    for n, c in enumerate(cases):
        c.id = c.id if c.id is not None else f"case{n}"
        if c.id in seen:
            raise InputError(str(path), f"case id {c.id!r} repeats ({seen[c.id].where} and {c.where})")
        seen[c.id] = c
    if schema_path is None:
        beside = (path if path.is_dir() else path.parent) / "schema.json"
        schema_path = beside if beside.is_file() and beside != path else None
    schema = read_schema_file(schema_path) if schema_path is not None else gold_schema(cases, str(path))
    return cases, schema


def gold_schema(cases: list[Case], where: str) -> Schema:
    """The types the gold uses, in order of first use: the schema of data that names none."""
    ents: dict[str, None] = {}
    rels: dict[str, None] = {}
    events: dict[str, dict[str, None]] = {}
    for c in cases:
        ents.update(dict.fromkeys(e.type for e in c.result.entities))
        rels.update(dict.fromkeys(r.type for r in c.result.relations))
        for v in c.result.events:
            events.setdefault(v.type, {}).update(dict.fromkeys(a.role for a in v.arguments))
    if not (ents or rels or events):
        raise InputError(where, "no case names any entity, relation or event type; give --schema")
    return Schema(entity_types=list(ents), relation_types=list(rels),
                  event_types={k: list(v) for k, v in events.items()})


def jobs(cases: list[Case], schema: Schema, mode: str, variants: int, source: str) -> list[Job]:
    out = []
    schema_json = schema.model_dump(mode="json")
    for c in cases:
        content = digest({"gold": c.result.model_dump(mode="json", exclude={"trace"}), "text": c.text,
                          "schema": schema_json})
        for v in range(variants):
            key = digest({"case": c.id, "content": content, "mode": mode, "variant": v})
            out.append(Job(c, str(c.id), v, mode, key, schema, source, content))
    return out


def problems(job: Job, media_root: Path) -> list[str]:
    """Why a case cannot make a record: it breaks the contract, its media or its text are missing,
    it uses types outside the schema."""
    r: Result = job.case.result
    bad = r.violations(job.case.text)  # ids that resolve, mentions that read as their words
    if job.case.text is None and any(i.modality == "text" for i in r.inputs):
        bad.append("it has a text input but no 'text'")
    for i in r.inputs:
        path = getattr(i, "path", None)
        if i.modality != "text" and path and not (media_root / path).is_file():
            bad.append(f"{i.id}: no such file {path} (under {media_root})")
    s = job.schema
    bad += [f"entity type {t!r} is not in the schema" for t in {e.type for e in r.entities} - set(s.entity_types)]
    bad += [f"relation type {t!r} is not in the schema" for t in {x.type for x in r.relations} - set(s.relation_types)]
    for v in r.events:
        if v.type not in s.event_types:
            bad.append(f"event type {v.type!r} is not in the schema")
        else:
            roles = s.event_types[v.type]
            bad += [f"role {a.role!r} is not one of {v.type}'s" for a in v.arguments if a.role not in roles]
    return bad


def media_paths(result: Result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"image": [], "audio": [], "video": []}
    for i in result.inputs:
        if i.modality in out and getattr(i, "path", None):
            out[i.modality].append(i.path)  # type: ignore[union-attr]
    return out


def phrase(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sources(result: Result) -> str:
    """The inputs in words: 'the text, the image and the recording'."""
    counts: dict[str, int] = {}
    for i in result.inputs:
        counts[i.modality] = counts.get(i.modality, 0) + 1
    return phrase([MODALITY_WORDS[m][n > 1] for m, n in counts.items()]) if counts else "the input"


def asked(schema: Schema) -> str:
    """What the schema asks for, in words: 'the entities, relations and events'."""
    parts = [w for w, has in (("entities", schema.entity_types), ("relations", schema.relation_types),
                              ("events", schema.event_types)) if has]
    return "the " + phrase(parts)


def context(job: Job) -> str:
    """The part of the human turn every record has: the schema, the inputs, the text."""
    s, r = job.schema, job.case.result
    lines = [f"Entity types: {', '.join(s.entity_types) or '(none)'}"]
    if s.relation_types:
        lines.append(f"Relation types: {', '.join(s.relation_types)}")
    if s.event_types:
        lines.append("Event types: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in s.event_types.items()))
    media = [f"{i.id} ({i.modality})" for i in r.inputs if i.modality != "text"]
    if media:
        lines.append(f"Inputs: {', '.join(media)}")
    if job.case.text is not None:
        lines.append(f"Text: {job.case.text}")
    return "\n".join(lines)


def placeholders(result: Result) -> str:
    from muie.agent.datagen.record import PLACEHOLDER

    paths = media_paths(result)
    return "".join(f"{PLACEHOLDER[m]}\n" for m in ("image", "audio", "video") for _ in paths[m])
