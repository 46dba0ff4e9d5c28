"""The verifier: checks that catch what goes wrong in grounded extraction, the fixes
they apply, and the critique they send back to the reasoner.

The six failures it is built against (REAMO's error analysis): duplicate extraction
across modalities (``duplicates``), incomplete extraction (``completeness``), wrong
grounding and over-grounding (``support``), grounding matched to the wrong entity
(``assignment``), and error propagation from a wrong call (a region that does not show
its entity is dropped and found again another way, whatever call produced it); plus
``consistency``, which keeps the result to the contract and the schema.

Each check is a small function ``(draft, VerifyContext) -> list[Finding]``. The verify
node runs the loop checks after every round of tool calls; the finish node runs the
final checks once media mentions are groundings. A check's fixes are applied before
the next check runs; findings asking for a re-plan go back to the reasoner, each once.
"""

from __future__ import annotations

from collections.abc import Callable

from muie.agent.verify.assignment import mismatched
from muie.agent.verify.completeness import missing_arguments, missing_names
from muie.agent.verify.consistency import (
    CONSISTENCY,
    mentions_match_text,
    one_type,
    references_resolve,
    types_in_schema,
)
from muie.agent.verify.context import VerifyContext
from muie.agent.verify.duplicates import entity_duplicates, event_duplicates
from muie.agent.verify.evidence import Evidence
from muie.agent.verify.fixes import apply_fixes
from muie.agent.verify.support import unsupported
from muie.draft import Draft
from muie.findings import Finding
from muie.repair import REPAIRED

Check = Callable[[Draft, VerifyContext], list[Finding]]


def consistency(draft: Draft, vc: VerifyContext) -> list[Finding]:
    return [f for check in (*CONSISTENCY, one_type) for f in check(draft, vc.request)]


LOOP: tuple[Check, ...] = (consistency, mismatched, unsupported, missing_names, missing_arguments)
FINAL: tuple[Check, ...] = (mismatched, unsupported, entity_duplicates, event_duplicates)


def verify_draft(draft: Draft, vc: VerifyContext) -> tuple[Draft, list[Finding]]:
    """Run the loop (or final) checks in order, each on the draft the previous one fixed."""
    findings: list[Finding] = []
    for check in FINAL if vc.final else LOOP:
        found = check(draft, vc)
        draft = apply_fixes(draft, found)
        findings += found
    return draft, findings


def is_open(f: Finding) -> bool:
    """A finding the reasoner must act on: a re-plan, or a consistency error to repair."""
    return f.replan is not None or f.check in REPAIRED


__all__ = ["Check", "Evidence", "Finding", "VerifyContext", "consistency", "is_open", "mentions_match_text",
           "references_resolve", "types_in_schema", "verify_draft"]
