"""The labels ``detect.v1`` knows, and class names as a caller may write them.

The labels are the COCO-80 class names the detector reports (all but "toilet", which it
never reports) and "face". A requested name is matched in any case, with ``_``/``-`` read
as spaces, a plural read as its singular ("cars"), and a few common synonyms ("people",
"sofa", "television", "motorbike"); an unknown name is a ``CallError`` that lists the
close labels.
"""

from __future__ import annotations

import difflib

from muie.errors import CallError
from muie.tools.models.nanodet import COCO_LABELS, SKIPPED

FACE = "face"
PERSON = "person"
LABELS: tuple[str, ...] = tuple(n for i, n in enumerate(COCO_LABELS) if i not in SKIPPED) + (FACE,)
OBJECT_LABELS = frozenset(LABELS) - {FACE}

SYNONYMS = {
    "people": PERSON, "human": PERSON, "man": PERSON, "men": PERSON, "woman": PERSON, "women": PERSON,
    "child": PERSON, "children": PERSON, "boy": PERSON, "girl": PERSON, "pedestrian": PERSON,
    "sofa": "couch", "television": "tv", "tvmonitor": "tv", "tv monitor": "tv", "monitor": "tv",
    "motorbike": "motorcycle", "aeroplane": "airplane", "plane": "airplane", "bike": "bicycle",
    "mobile phone": "cell phone", "cellphone": "cell phone", "phone": "cell phone", "smartphone": "cell phone",
    "diningtable": "dining table", "table": "dining table", "pottedplant": "potted plant", "plant": "potted plant",
    "ball": "sports ball", "mug": "cup", "doughnut": "donut", "hair dryer": "hair drier", "fridge": "refrigerator",
    "knives": "knife", "faces": FACE, "head": FACE,
}


def _plain(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


def label_of(name: str) -> str | None:
    """The label a requested class name means, or None."""
    n = _plain(name)
    if n in LABELS:
        return n
    if n in SYNONYMS:
        return SYNONYMS[n]
    for cut in ("es", "s"):  # plurals: "cars", "buses"
        if n.endswith(cut) and n[: -len(cut)] in LABELS:
            return n[: -len(cut)]
    return None


def resolve_classes(names: list[str] | None) -> frozenset[str] | None:
    """The labels to keep (None: all), or a ``CallError`` naming each unknown name and the labels close to it."""
    if names is None:
        return None
    out, bad = set(), []
    for n in names:
        label = label_of(n)
        (bad.append(n) if label is None else out.add(label))
    if bad:
        vocab = list(LABELS) + list(SYNONYMS)
        said = []
        for b in bad:
            close = difflib.get_close_matches(_plain(b), vocab, n=4, cutoff=0.6)
            close = list(dict.fromkeys(SYNONYMS.get(c, c) for c in close))
            said.append(f"{b!r} (close: {', '.join(close) or 'none'})")
        raise CallError(f"unknown detection class {'; '.join(said)}. Known: 'face' and the COCO class names, "
                        f"e.g. person, car, bicycle, dog, cat, bird, cup, bottle, chair, laptop, tv, book")
    return frozenset(out)
