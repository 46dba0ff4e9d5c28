"""The store: media by content hash, runs with their results as rows, read back and listed.

``Store.record_run`` writes a run, its media and every entity, grounding, relation,
event and read text in one transaction: a process killed mid-write leaves either the
whole run or none of it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from muie.derived import DerivedText
from muie.domain import Result
from muie.errors import InputError
from muie.memory.db import engine_for, store_url
from muie.memory.media import content_hash, hash_text
from muie.memory.tables import (
    EntityRow,
    EventRow,
    GroundingRow,
    KeptRequest,
    MediaAsset,
    ReadText,
    RelationRow,
    Run,
    RunMedia,
    ToolResult,
    now,
)
from muie.request import Request
from muie.settings import Settings, default_settings

log = logging.getLogger("muie")


class Store:
    def __init__(self, settings: Settings | None = None, url: str | None = None) -> None:
        self.settings = settings or default_settings()
        self.url = url or store_url(self.settings)
        self.engine = engine_for(self.url)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # media ---------------------------------------------------------------------------------
    def media_hashes(self, inputs: Iterable[Any]) -> dict[str, str]:
        """Input id -> content hash of each media input that has a readable file."""
        out = {}
        for i in inputs:
            path = getattr(i, "path", None)
            if i.modality != "text" and path and Path(path).is_file():
                out[i.id] = content_hash(path)
        return out

    def _media_rows(self, s: Session, inputs: Sequence[Any], hashes: dict[str, str]) -> None:
        for i in inputs:
            h = hashes.get(i.id)
            if h is None:
                continue
            meta = i.model_dump(exclude={"id", "modality", "path"}, exclude_none=True)
            row = s.get(MediaAsset, h)
            if row is None:
                s.add(MediaAsset(hash=h, kind=i.modality, path=str(Path(i.path).resolve()),
                                 size=Path(i.path).stat().st_size, meta=meta))
            else:
                row.path, row.last_seen, row.meta = str(Path(i.path).resolve()), now(), meta
                s.add(row)

    def media(self, digest: str) -> MediaAsset | None:
        with self.session() as s:
            return s.get(MediaAsset, digest)

    # runs ----------------------------------------------------------------------------------
    def record_run(self, request: Request, result: Result, reasoner: str, seconds: float,
                   derived: Sequence[DerivedText] = (), tool_calls: int = 0, cached_calls: int = 0,
                   fingerprint: str | None = None) -> str:
        """Keep one run (its inputs, schema, result and rows) and return its id; under
        ``fingerprint`` (``memory.kept_runs``), it answers the same request later."""
        hashes = self.media_hashes(request.inputs)
        run_id = uuid.uuid4().hex
        inputs = [dict(i.model_dump(exclude_none=True), hash=hashes.get(i.id)) for i in result.inputs]
        run = Run(id=run_id, reasoner=reasoner, text=request.text,
                  text_hash=hash_text(request.text) if request.text is not None else None,
                  schema_=request.schema_.model_dump(), tasks=list(request.tasks), inputs=inputs,
                  seconds=round(seconds, 4), tool_calls=tool_calls, cached_calls=cached_calls,
                  entities=len(result.entities), relations=len(result.relations), events=len(result.events),
                  result=result.to_json())
        with self.session() as s, s.begin():
            self._media_rows(s, request.inputs, hashes)
            s.add(run)
            s.flush()
            for input_id, h in hashes.items():
                s.add(RunMedia(run_id=run_id, input_id=input_id, media_hash=h))
            for row in _item_rows(run_id, result, hashes):
                s.add(row)
            for d in derived:
                s.add(ReadText(run_id=run_id, input_id=d.source, media_hash=hashes.get(d.source), kind=d.kind,
                               text=d.text, words=[w.model_dump(exclude_none=True) for w in d.words]))
            if fingerprint is not None:
                s.merge(KeptRequest(fingerprint=fingerprint, run_id=run_id))
        return run_id

    def kept_result(self, fingerprint: str) -> tuple[Result, str] | None:
        """The result and id of the run kept under ``fingerprint``, or None."""
        with self.session() as s:
            kept = s.get(KeptRequest, fingerprint)
            run = s.get(Run, kept.run_id) if kept is not None else None
        return (Result.model_validate_json(run.result), run.id) if run is not None else None

    def runs(self, limit: int = 50, media_hash: str | None = None) -> list[Run]:
        """The latest runs first; only those that read ``media_hash`` when it is given."""
        with self.session() as s:
            q = select(Run)
            if media_hash:
                q = q.join(RunMedia, col(RunMedia.run_id) == col(Run.id)).where(RunMedia.media_hash == media_hash)
            return list(s.exec(q.order_by(col(Run.created).desc()).limit(limit)))

    def run(self, run_id: str) -> Run:
        """A run by its id, or by a unique prefix of it (as ``muie runs`` prints them)."""
        with self.session() as s:
            row = s.get(Run, run_id)
            if row is not None:
                return row
            found = list(s.exec(select(Run).where(col(Run.id).startswith(run_id)).limit(2))) if run_id else []
        if len(found) == 1:
            return found[0]
        raise InputError(f"run {run_id}", "no such run in the store" if not found else "the prefix names several runs")

    def result(self, run_id: str) -> Result:
        return Result.model_validate_json(self.run(run_id).result)

    def latest_run(self, media: dict[str, str], text_hash: str | None = None,
                   schema: dict[str, Any] | None = None) -> Run | None:
        """The latest run that read every media hash of ``media`` (input id -> hash) and the
        same text (none: a run without text), with ``schema`` when given."""
        with self.session() as s:
            q = (select(Run).where(Run.text_hash == text_hash) if text_hash
                 else select(Run).where(col(Run.text_hash).is_(None)))
            for h in sorted(set(media.values())):
                q = q.where(col(Run.id).in_(select(RunMedia.run_id).where(RunMedia.media_hash == h)))
            for run in s.exec(q.order_by(col(Run.created).desc()).limit(20)):
                if schema is None or run.schema_ == schema:
                    if {i.get("hash") for i in run.inputs if i.get("hash")} == set(media.values()):
                        return run
        return None

    def read_texts(self, run_id: str) -> list[ReadText]:
        with self.session() as s:
            return list(s.exec(select(ReadText).where(ReadText.run_id == run_id).order_by(col(ReadText.id))))

    def counts(self) -> dict[str, int]:
        """Rows per table: a quick look at what the store holds."""
        with self.session() as s:
            return {m.__tablename__: s.exec(select(func.count()).select_from(m)).one()  # type: ignore[attr-defined]
                    for m in (MediaAsset, Run, RunMedia, EntityRow, GroundingRow, RelationRow, EventRow, ReadText,
                              ToolResult)}

    def check(self) -> list[str]:
        """What is inconsistent in the store (rows of runs that do not exist, runs whose row
        counts differ from their results); empty when it holds."""
        problems = []
        with self.session() as s:
            runs = {r.id: r for r in s.exec(select(Run))}
            for model in (RunMedia, EntityRow, GroundingRow, RelationRow, EventRow, ReadText):
                orphans = s.exec(select(func.count()).select_from(model).where(
                    col(model.run_id).not_in(list(runs)) if runs else True)).one()  # type: ignore[attr-defined]
                if orphans:
                    problems.append(f"{orphans} row(s) of {model.__tablename__} belong to no run")  # type: ignore[attr-defined]
            for run in runs.values():
                n = s.exec(select(func.count()).select_from(EntityRow).where(EntityRow.run_id == run.id)).one()
                if n != run.entities or len(Result.model_validate_json(run.result).entities) != n:
                    problems.append(f"run {run.id}: {n} entity rows, {run.entities} counted")
        return problems


def _item_rows(run_id: str, result: Result, hashes: dict[str, str]) -> Iterable[Any]:
    for e in result.entities:
        yield EntityRow(run_id=run_id, eid=e.id, text=e.text, type=e.type, score=e.score,
                        mentions=[m.model_dump() for m in e.mentions])
        yield from _groundings(run_id, e.id, e.groundings, hashes)
    for r in result.relations:
        yield RelationRow(run_id=run_id, rid=r.id, type=r.type, head=r.head, tail=r.tail, score=r.score)
    for v in result.events:
        yield EventRow(run_id=run_id, vid=v.id, type=v.type, trigger=v.trigger.text, score=v.score,
                       arguments=[a.model_dump() for a in v.arguments])
        yield from _groundings(run_id, v.id, v.trigger.groundings, hashes)


def _groundings(run_id: str, owner: str, groundings: Sequence[Any], hashes: dict[str, str]) -> Iterable[GroundingRow]:
    for g in groundings:
        row = GroundingRow(run_id=run_id, owner=owner, input_id=g.input, media_hash=hashes.get(g.input), kind=g.kind,
                           score=g.score, label=getattr(g, "label", None), data=g.model_dump(mode="json"))
        if g.kind == "segment":
            row.start_s, row.end_s = g.start_s, g.end_s
        elif g.kind == "region":
            row.x0, row.y0, row.x1, row.y1 = g.bbox
        elif g.kind == "track":
            times = [f.time_s for f in g.frames if f.time_s is not None]
            row.start_s, row.end_s = (min(times), max(times)) if times else (None, None)
        yield row


def open_store(settings: Settings | None = None) -> Store | None:
    """The configured store, or None (with a warning) when it cannot be opened for a reason
    that is not the user's configuration: extraction goes on without it."""
    try:
        return Store(settings)
    except SQLAlchemyError as e:
        log.warning("the store cannot be used, going on without it: %s", e)
        return None
