"""Scoring grounded MUIE results against gold: ``muie eval GOLD PRED`` and its Python API.

>>> from agent.scoring import evaluate, load_cases
>>> report = evaluate(load_cases("gold.jsonl"), load_cases("pred.jsonl"))
>>> report.overall.ner.f1

Modules: ``metrics`` (P/R/F1 and IoU functions), ``matching`` (entity alignment and
Hungarian matching), ``grounding`` (image, video, audio and over-grounding figures),
``cases`` (loading and pairing), ``score`` (per-case and corpus scores), ``report``
(the report model and its tables).
"""

from .cases import Case, load_cases, pair_cases
from .report import CaseReport, Report, Scores, render_text
from .score import evaluate, score_case

__all__ = ["Case", "CaseReport", "Report", "Scores", "evaluate", "load_cases", "pair_cases", "render_text",
           "score_case"]
