"""Scoring one case, and a corpus of cases (micro-averaged: counts summed over cases).

Per case, predicted entities and events are first aligned to gold ones (see
``matching.align``); then:

- NER: strict P/R/F1 over items ``(input, start, end, type)``, one per text mention;
  an entity with no text mention is one item ``(normalised text, type)``;
- RE: items ``(head, tail, type)`` with the ends as gold entities; a predicted end
  that is not aligned to a gold entity never matches;
- EE trigger: items ``(input, start, end, event type)`` per trigger mention, or
  ``(normalised trigger text, event type)`` for a trigger with no text mention;
- EE argument: items ``(event, role, entity)`` where a predicted argument's event and
  entity must be aligned to the gold event (same type) and the gold entity;
- grounding: see ``grounding.score_groundings`` (entities and event triggers); an
  entity without a text mention is aligned for it by where it is grounded too (a thing
  only seen, named otherwise: see ``matching.align``).

Items are multisets: a key predicted twice where gold has it once is one tp and one fp.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from muie.domain import Result

from .cases import Case, as_case, pair_cases
from .grounding import score_groundings
from .matching import Thing, align
from .metrics import prf
from .report import CaseReport, Report, Scores, combination


def _mention_items(things: Iterable[Thing]) -> Counter[Any]:
    """One item per text mention span + type; one (normalised text, type) item for a thing with none."""
    items: Counter[Any] = Counter()
    for t in things:
        if t.spans:
            items.update((*span, t.type) for span in t.spans)
        else:
            items[("media-only", t.norm, t.type)] += 1
    return items


def _gold_ref(ids: dict[str, int], ref: str) -> Any:
    return ids.get(ref, ("dangling", ref))


def _pred_ref(ids: dict[str, int], aligned: dict[int, int], ref: str) -> Any:
    """The gold index a predicted id is aligned to, else a key no gold item has."""
    j = ids.get(ref)
    if j is None:
        return ("dangling", ref)
    return aligned[j] if j in aligned else ("unaligned", j)


def _index(items: Sequence[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, x in enumerate(items):
        out.setdefault(x.id, i)
    return out


def score_case(gold: Result, pred: Result) -> Scores:
    """Every figure of one case, as counts."""
    ge, pe = [Thing.of_entity(e) for e in gold.entities], [Thing.of_entity(e) for e in pred.entities]
    gv, pv = [Thing.of_event(v) for v in gold.events], [Thing.of_event(v) for v in pred.events]
    ent, evt = align(ge, pe), align(gv, pv)
    g_ent, p_ent, g_evt, p_evt = _index(gold.entities), _index(pred.entities), _index(gold.events), _index(pred.events)

    g_rel = Counter((_gold_ref(g_ent, r.head), _gold_ref(g_ent, r.tail), r.type) for r in gold.relations)
    p_rel = Counter((_pred_ref(p_ent, ent, r.head), _pred_ref(p_ent, ent, r.tail), r.type) for r in pred.relations)

    g_arg: Counter[Any] = Counter()
    for v in gold.events:
        g_arg.update((g_evt[v.id], v.type, a.role, _gold_ref(g_ent, a.entity)) for a in v.arguments)
    p_arg: Counter[Any] = Counter()
    for v in pred.events:
        ev = _pred_ref(p_evt, evt, v.id)
        p_arg.update((ev, v.type, a.role, _pred_ref(p_ent, ent, a.entity)) for a in v.arguments)

    grounding = score_groundings(ge, pe, align(ge, pe, by_place=True)) + score_groundings(gv, pv, evt)
    return Scores(cases=1, ner=prf(_mention_items(ge), _mention_items(pe)), re=prf(g_rel, p_rel),
                  ee_trigger=prf(_mention_items(gv), _mention_items(pv)), ee_argument=prf(g_arg, p_arg),
                  grounding=grounding)


def evaluate(gold_cases: Sequence[Case | Result | dict[str, Any]],
             pred_cases: Sequence[Case | Result | dict[str, Any]]) -> Report:
    """Score predictions against gold: per case, per modality combination and overall.

    ``gold_cases`` and ``pred_cases`` are what ``load_cases`` returns, or results (or
    result JSON objects). Cases are paired by id when every case on both sides has one,
    else by order; a gold case with no prediction is scored as an empty prediction and
    noted in ``Report.warnings``. Pairing problems raise ``InputError``.
    """
    gold = [as_case(c, n) for n, c in enumerate(gold_cases)]
    pred = [as_case(c, n) for n, c in enumerate(pred_cases)]
    pairs, warnings = pair_cases(gold, pred)
    per_case: list[CaseReport] = []
    overall = Scores()
    by_combination: dict[str, Scores] = {}
    for n, (g, p) in enumerate(pairs):
        scores = score_case(g.result, p.result if p is not None else Result())
        combo = combination({i.modality for i in g.result.inputs})
        per_case.append(CaseReport(id=g.id if g.id is not None else str(n), combination=combo,
                                   predicted=p is not None, scores=scores))
        overall = overall + scores
        by_combination[combo] = by_combination.get(combo, Scores()) + scores
    return Report(overall=overall, by_combination=by_combination, cases=per_case, warnings=warnings)
