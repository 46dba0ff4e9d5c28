"""What the verifier weighs findings by: the run's own media, looked at again.

- an image region: its support for the entity (``tools.region_support``: the image's
  labelled proposals at that place, scored against the entity's words and type);
- a speech segment: the words transcribed in that time span;
- a region around words read in an image: the words read there;
- two names: whether they name the same thing (the same words, one inside the other,
  or close spelling: ``Globex Bank`` and ``Globe Bank`` as heard).
"""

from __future__ import annotations

from difflib import SequenceMatcher
from functools import lru_cache

from muie.agent.scoring.metrics import box_iou
from muie.derived import OCR, SPEECH, DerivedText
from muie.domain import Grounding, Region, Segment
from muie.request import Request

PUNCT = ".,;:!?'\"()[]{}"


def words(text: str) -> tuple[str, ...]:
    return tuple(w.strip(PUNCT).lower() for w in text.split() if w.strip(PUNCT))


def within(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    n = len(short)
    return 0 < n <= len(long) and any(long[i:i + n] == short for i in range(len(long) - n + 1))


def overlap(a: Grounding, b: Grounding) -> float:
    """Box IoU of two regions, or time IoU of two segments, of one input (1 for two
    identical instants); 0 for groundings of different inputs or kinds."""
    if a.input != b.input or a.kind != b.kind:
        return 0.0
    if isinstance(a, Region) and isinstance(b, Region):
        return box_iou(a.bbox, b.bbox)
    if isinstance(a, Segment) and isinstance(b, Segment):
        inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
        union = max(a.end_s, b.end_s) - min(a.start_s, b.start_s)
        return 1.0 if union <= 0 else max(0.0, inter / union)
    return 0.0


@lru_cache(maxsize=4096)
def spelling(a: str, b: str) -> float:
    """Similarity in [0, 1] of two names' letters, case and spacing ignored."""
    x, y = " ".join(words(a)), " ".join(words(b))
    return SequenceMatcher(None, x, y).ratio() if x and y else 0.0


def said_in(heard: str, name: str, least: float = 0.8) -> bool:
    """``name`` is among the words ``heard`` (exactly, or spelled closely enough: a
    transcript or a sign misreads a letter or two)."""
    h, n = words(heard), words(name)
    if not n:
        return False
    if within(n, h):
        return True
    k = len(n)
    return any(spelling(" ".join(h[i:i + k]), " ".join(n)) >= least for i in range(max(1, len(h) - k + 1)))


class Evidence:
    """The media of one run, for the checks; images are examined only when a check asks."""

    def __init__(self, request: Request, context=None, cache=None) -> None:  # type: ignore[no-untyped-def]
        self.request = request
        self.context = context  # a tools.ToolContext, or None: then regions are not judged
        self.cache = cache  # a memory.tool_cache.ToolCache, or None: regions are judged afresh
        self._derived = {(d.source, d.kind): d for d in request.derived}
        self._support: dict[tuple, float | None] = {}  # type: ignore[type-arg]

    def derived(self, source: str, kind: str) -> DerivedText | None:
        return self._derived.get((source, kind))

    def heard(self, source: str, start_s: float, end_s: float, pad_s: float = 0.3) -> str | None:
        """The words transcribed in ``[start_s, end_s]`` of an audio input; None when it has no transcript."""
        d = self.derived(source, SPEECH)
        if d is None:
            return None
        return " ".join(d.text[w.start:w.end] for w in d.words if w.start_s is not None and w.end_s is not None
                        and w.end_s > start_s - pad_s and w.start_s < end_s + pad_s)

    def read(self, source: str, bbox: list[float]) -> str | None:
        """The words read inside ``bbox`` of an image (their centres); None when nothing was read there."""
        d = self.derived(source, OCR)
        if d is None:
            return None
        inside = [d.text[w.start:w.end] for w in d.words if w.bbox is not None
                  and bbox[0] - 2 <= (w.bbox[0] + w.bbox[2]) / 2 <= bbox[2] + 2
                  and bbox[1] - 2 <= (w.bbox[1] + w.bbox[3]) / 2 <= bbox[3] + 2]
        return " ".join(inside)

    def region_support(self, input_id: str, bbox: list[float], text: str, entity_type: str) -> float | None:
        """How well the region shows the entity, from the image's perception; None when it cannot be judged."""
        if self.context is None or input_id not in self.context.media:
            return None
        key = (input_id, tuple(round(v, 1) for v in bbox), text, entity_type)
        if key not in self._support:
            from muie.tools.image.region_support import RegionSupportArgs, RegionSupportCheck

            check, args = RegionSupportCheck(), RegionSupportArgs(input=input_id, bbox=list(bbox), text=text,
                                                                  entity_type=entity_type)
            items = [(args, self.context)]
            found = self.cache.run(check, items, check.run_batch)[0] if self.cache is not None else \
                check.run_batch(items)
            self._support[key] = found[0].support
        return self._support[key]
