"""The report of ``muie eval``: a Pydantic model (its JSON is ``--json OUT``) and text tables.

``Scores`` holds every figure with its counts; scores of cases add up with ``+``, so the
corpus and per-modality-combination figures are micro-averages over cases.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from muie.files import write_atomic

from .grounding import GroundingScores
from .metrics import PRF, Accuracy, Additive, Mean

MODALITIES = ("text", "image", "audio", "video")


class Scores(Additive):
    """All figures of one case or, summed, of several."""

    cases: int = 0
    ner: PRF = Field(default_factory=PRF,
                     description="Entities: strict span + type (media-only: normalised text + type).")
    re: PRF = Field(default_factory=PRF, description="Relations: type with head and tail aligned to the gold ends.")
    ee_trigger: PRF = Field(default_factory=PRF,
                            description="Event triggers: span + event type (media-only: text + type).")
    ee_argument: PRF = Field(default_factory=PRF,
                             description="Arguments: event type + role + aligned entity, in an aligned event.")
    grounding: GroundingScores = Field(default_factory=GroundingScores)


class CaseReport(BaseModel):
    id: str
    combination: str
    predicted: bool = Field(description="False when the prediction was missing and scored as empty.")
    scores: Scores


class Report(BaseModel):
    """What ``evaluate`` returns: corpus figures, per-combination figures, per-case figures."""

    overall: Scores
    by_combination: dict[str, Scores]
    cases: list[CaseReport]
    warnings: list[str] = Field(default_factory=list)


def combination(modalities: set[str]) -> str:
    """The modality combination of a case, in a fixed order: e.g. "text+image+audio"; "none" without inputs."""
    names = [m for m in MODALITIES if m in modalities] + sorted(modalities - set(MODALITIES))
    return "+".join(names) or "none"


# --------------------------------------------------------------------------- text tables


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned first column, right-aligned others, two spaces between columns."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[str]) -> str:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    return [line(header), *[line(r) for r in rows]]


def _prf_row(name: str, s: PRF) -> list[str]:
    return [name, _num(s.precision), _num(s.recall), _num(s.f1), str(s.tp), str(s.fp), str(s.fn)]


def _acc(a: Accuracy) -> str:
    return f"{a.hits}/{a.n}"


def _mean(m: Mean) -> str:
    return f"n={m.n}"


def render_scores(s: Scores, title: str) -> list[str]:
    """Two tables: the extraction tasks with P/R/F1 and counts, then the grounding figures."""
    g = s.grounding
    out = [f"{title} ({s.cases} case{'s' if s.cases != 1 else ''})", ""]
    out += _table(["task", "P", "R", "F1", "tp", "fp", "fn"], [
        _prf_row("NER", s.ner), _prf_row("RE", s.re),
        _prf_row("EE trigger", s.ee_trigger), _prf_row("EE argument", s.ee_argument),
    ])
    out.append("")
    out += _table(["grounding", "value", "counts"], [
        ["image box acc@0.5", _num(g.box.value), _acc(g.box)],
        ["image mask mIoU", _num(g.mask.value), _mean(g.mask)],
        ["video J", _num(g.track.value), _mean(g.track)],
        ["audio tIoU mIoU", _num(g.segment.value), _mean(g.segment)],
        ["audio acc@0.5", _num(g.segment_acc.value), _acc(g.segment_acc)],
        ["over-grounding", _num(g.over.rate), f"{g.over.over}/{g.over.predicted}"],
    ])
    return out


def render_text(report: Report, by_combination: bool = False) -> str:
    """The report as plain aligned text: the corpus tables, then one pair per combination if asked."""
    lines = render_scores(report.overall, "all cases")
    if by_combination:
        for name, s in sorted(report.by_combination.items()):
            lines += ["", *render_scores(s, f"combination {name}")]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- JSON file


def write_json(report: Report, path: Path) -> None:
    """Write the report as JSON through a temporary file and a rename: never half a file."""
    write_atomic(path, report.model_dump_json(indent=2) + "\n")
