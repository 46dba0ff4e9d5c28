"""Plain names and schema types for what a picture shows that nobody names.

The things are the whole objects among an image's proposals (salient pieces,
detections) of enough quality that do not fill the picture, best first, one per place
(``whole_objects``). A whole object is named by the detector's class, else by
the narrowest group of words its best ImageNet class belongs to
(``prompts/imagenet_groups.yaml``: "cat" for a tabby), else by the class's own name;
it is typed by the schema's entity type closest in meaning to that name, when close
enough. Used for images (``link_regions``) and videos (``find_video_things``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from muie import prompts
from muie.tools.image.grounding import overlapping
from muie.tools.image.label_meaning import _spec
from muie.tools.image.proposals import Proposal
from muie.tools.models import classify
from muie.tools.models.text_models import embedder
from muie.tools.text.meaning import type_similarity

WHOLE = ("component", "salient", "detector")
"""Proposal sources that are whole objects."""
MAX_AREA = 0.6
"""A proposal covering more of the picture than this is the scene, not a thing."""


def whole_objects(proposals: Sequence[Proposal], min_quality: float, limit: int, taken: Sequence[np.ndarray] = (),
                  skip: Callable[[Proposal], bool] | None = None) -> list[Proposal]:
    """At most ``limit`` whole objects of at least ``min_quality``, best first, none
    overlapping another or a mask of ``taken``; ``skip`` rules out more."""
    kept: list[Proposal] = []
    for p in sorted(proposals, key=lambda q: -q.quality):
        if len(kept) >= limit:
            break
        if p.source not in WHOLE or p.quality < min_quality or p.area > MAX_AREA:
            continue
        if skip is not None and skip(p):
            continue
        if any(overlapping(p.mask, m) for m in [*taken, *(k.mask for k in kept)]):
            continue
        kept.append(p)
    return kept


def seen_score(quality: float, label_score: float) -> float:
    """Confidence in a thing seen: its proposal's quality, discounted when its label is weak."""
    return float(np.clip(quality * min(1.0, label_score + 0.5), 0, 1))


@lru_cache(maxsize=1)
def _groups() -> list[tuple[str, frozenset[int]]]:
    out = []
    for g in prompts.load("imagenet_groups.yaml"):
        classes = {i for part in str(g["classes"]).split(",") for i in _spec(part.strip())}
        out.append((str(g["words"][0]), frozenset(classes)))
    return out


def plain_name(class_index: int) -> str:
    """The narrowest group's word for an ImageNet class, else its own name."""
    fits = [(len(c), w) for w, c in _groups() if class_index in c]
    return min(fits)[1] if fits else classify.classes()[class_index].name


def name_of(p) -> tuple[str, str, float]:  # type: ignore[no-untyped-def]
    """(plain name, the label it came from, its score) of a proposal."""
    if p.detection is not None:
        return p.detection.name, p.detection.name, float(p.detection.score)
    (cls, score), = classify.top(p.probs, 1)
    return plain_name(cls.index), cls.name, float(score)


def types_of(names: list[str], entity_types: list[str], descriptions: dict[str, str] | None,
             embedding_model: str, threshold: float) -> list[str | None]:
    """The schema type closest in meaning to each name; None where none reaches ``threshold``."""
    if not names or not entity_types:
        return [None] * len(names)
    sims = type_similarity(embedder(embedding_model).encode(names), entity_types, descriptions)
    out: list[str | None] = []
    for row in sims:
        best = int(np.argmax(row))
        out.append(entity_types[best] if row[best] >= threshold else None)
    return out
