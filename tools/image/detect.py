"""``detect.v1``: people, faces and COCO-80 objects in an image, as scored boxes, with person masks.

Sources, each a module of its own:

- ``tools.nanodet``: the 80 COCO classes, people among them (one network run per batch).
- ``tools.people`` (MediaPipe): faces; the most prominent person, with its mask; the
  per-pixel person probability that gives the other people their masks.
- ``tools.people`` (Haar cascade): faces, searched inside person boxes, only when MediaPipe
  is missing or finds no face.

The image is read at most ``MODEL_SIDE`` pixels on its longer side; boxes and masks are
mapped back to the original pixels. Candidates from all sources are merged by per-label NMS
(``MERGE_IOU``): the best-scored box of a group is kept, with every source that found it.
Each source has its own least score (``MIN_SCORE``), which ``min_score`` replaces for all.

``detect_objects(rgb)`` does the same on an array, for tools that hold one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from muie.calls import Args
from muie.domain import RLE, BBox
from muie.tools.base import Tool, ToolContext
from muie.tools.image.boxes import iou, mask_rle, nms
from muie.tools.image.detect_labels import FACE, OBJECT_LABELS, PERSON, resolve_classes
from muie.tools.media.image_io import image_input, load_cached, probe
from muie.tools.models import nanodet, people

DetectionSource = Literal["nanodet", "mediapipe", "haar"]
"""Which model found a detection: NanoDet (COCO objects and people), MediaPipe (faces,
a person's pose and mask), OpenCV's Haar cascade (faces, when MediaPipe finds none)."""


class DetectArgs(Args):
    input: str = Field(description="Id of an image input of this run.")
    classes: list[str] | None = Field(
        default=None, min_length=1,
        description="Labels to keep: COCO class names (person, car, dog, cup, ...) and 'face'; default: all.",
    )
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Least score kept, for every source (default: each source's own)."
    )
    max_detections: int = Field(default=100, ge=1, le=1000, description="Most detections returned, best first.")
    masks: bool = Field(default=True, description="Give person masks where the person model has them.")


class Detection(BaseModel):
    label: str = Field(description="A COCO class name, or 'face'.")
    bbox: BBox = Field(description="[x0, y0, x1, y1] in original image pixels.")
    score: float = Field(ge=0, le=1)
    source: DetectionSource = Field(description="The model whose box this is.")
    sources: list[DetectionSource] = Field(
        default_factory=list, description="Every model that found this object (duplicates merged into one)."
    )
    mask: RLE | None = Field(default=None, description="The object's pixels, COCO RLE over the whole image.")


class DetectResult(BaseModel):
    input: str
    width: int = Field(gt=0, description="Image width in pixels, as shown.")
    height: int = Field(gt=0)
    detections: list[Detection] = Field(default_factory=list, description="Best score first.")


class Detect(Args):
    """Find people, faces and COCO objects (car, dog, cup, chair, ...) in an image input: labelled boxes
    with scores, and person masks."""

    tool: Literal["detect.v1"] = "detect.v1"
    arguments: DetectArgs


MODEL_SIDE = 1024
"""Longest side of the array the models see; larger images are downscaled first."""
MERGE_IOU = 0.5
MIN_SCORE = {"nanodet": nanodet.DEFAULT_MIN_SCORE, "mediapipe": 0.5, "haar": 0.5}
HAAR_REGION_SCORE = 0.5  # least score of a person box the Haar cascade searches for faces
MASK_THRESHOLD = 0.5
MIN_MASK_FILL = 0.05  # a person mask filling less of its box than this is not given
MIN_SIDE_MEDIAPIPE = 32  # pixels; on a smaller array MediaPipe's models are not run


@dataclass(frozen=True)
class Plan:
    """What one call asks for: the labels kept (None: all), thresholds, how many, masks or not."""

    wanted: frozenset[str] | None = None
    min_score: float | None = None
    max_detections: int = 100
    masks: bool = True

    def wants(self, label: str) -> bool:
        return self.wanted is None or label in self.wanted

    @property
    def needs_objects(self) -> bool:
        """Whether NanoDet runs for this call's own labels (for faces alone it runs only
        when Haar needs person boxes to search)."""
        return self.wanted is None or bool(self.wanted & OBJECT_LABELS)

    def threshold(self, source: str) -> float:
        return MIN_SCORE[source] if self.min_score is None else self.min_score


@dataclass
class _Candidate:
    label: str
    box: np.ndarray  # array pixels
    score: float
    source: str
    prob: np.ndarray | None = None  # person probability over the whole array
    sources: list[str] = field(default_factory=list)


def _mediapipe_ok(rgb: np.ndarray) -> bool:
    """MediaPipe is there and the array is big enough for it (it upsamples a tiny one and
    finds a "person" in 7x7 pixels of noise)."""
    return min(rgb.shape[:2]) >= MIN_SIDE_MEDIAPIPE and people.available()


def _candidates(rgb: np.ndarray, objects: nanodet.Objects | None, plan: Plan) -> list[_Candidate]:
    """Every source's finds on the array, above its threshold, before merging."""
    out = []
    if objects is not None:
        out += [_Candidate(lab, b, float(s), "nanodet") for lab, b, s in zip(objects.labels(), objects.boxes,
                                                                              objects.scores)]
    mp_ok = _mediapipe_ok(rgb)
    if mp_ok and plan.wants(PERSON):
        found = people.pose_person(rgb)
        if found is not None and found.score >= plan.threshold("mediapipe"):
            out.append(_Candidate(PERSON, found.box, found.score, "mediapipe", found.mask))
    if plan.wants(FACE):
        faces = [f for f in people.faces(rgb) if f.score >= plan.threshold("mediapipe")] if mp_ok else []
        out += [_Candidate(FACE, f.box, f.score, "mediapipe") for f in faces]
        if not faces:
            regions = [c.box for c in out if c.label == PERSON and c.score >= HAAR_REGION_SCORE]
            if objects is None:  # NanoDet did not run for this call: its people bound the search
                more = nanodet.detect(rgb, HAAR_REGION_SCORE)
                regions += [b for lab, b in zip(more.labels(), more.boxes) if lab == PERSON]
            out += [_Candidate(FACE, f.box, f.score, "haar") for f in people.haar_faces(rgb, regions)
                    if f.score >= plan.threshold("haar")]
    return [c for c in out if plan.wants(c.label)]


def _merge(cands: list[_Candidate]) -> list[_Candidate]:
    """Per-label NMS across sources; a kept box lists every source of its group and takes
    a person mask from the group when it has none."""
    if not cands:
        return []
    labels = sorted({c.label for c in cands})
    boxes = np.array([c.box for c in cands], np.float64)
    cls = np.array([labels.index(c.label) for c in cands])
    keep = nms(boxes, np.array([c.score for c in cands]), MERGE_IOU, classes=cls)
    overlaps = iou(boxes, boxes)
    taken: set[int] = set()
    out = []
    for i in keep:
        group = [i] + [j for j in range(len(cands)) if j != i and j not in taken and cls[j] == cls[i]
                       and overlaps[i, j] > MERGE_IOU and j not in keep]
        taken.update(group)
        c = cands[i]
        c.sources = list(dict.fromkeys(cands[j].source for j in group))
        if c.prob is None:
            c.prob = next((cands[j].prob for j in group if cands[j].prob is not None), None)
        out.append(c)
    return out


def _int_box(box: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    x0, y0 = int(np.clip(np.floor(box[0]), 0, w)), int(np.clip(np.floor(box[1]), 0, h))
    x1, y1 = int(np.clip(np.ceil(box[2]), 0, w)), int(np.clip(np.ceil(box[3]), 0, h))
    return x0, y0, x1, y1


def _mask(prob: np.ndarray, box: np.ndarray, scale: float, width: int, height: int) -> np.ndarray | None:
    """The person's pixels inside its box, at the original size, or None when too few."""
    import cv2

    h, w = prob.shape
    ax0, ay0, ax1, ay1 = _int_box(box, w, h)
    crop = prob[ay0:ay1, ax0:ax1]
    if crop.size == 0 or (crop > MASK_THRESHOLD).mean() < MIN_MASK_FILL:
        return None
    ox0, oy0, ox1, oy1 = _int_box(box / scale, width, height)
    if ox1 <= ox0 or oy1 <= oy0:
        return None
    if (ox1 - ox0, oy1 - oy0) != (crop.shape[1], crop.shape[0]):
        crop = cv2.resize(np.ascontiguousarray(crop), (ox1 - ox0, oy1 - oy0), interpolation=cv2.INTER_LINEAR)
    full = np.zeros((height, width), bool)
    full[oy0:oy1, ox0:ox1] = crop > MASK_THRESHOLD
    return full


def detect_array(rgb: np.ndarray, plan: Plan, objects: nanodet.Objects | None = None, scale: float = 1.0,
                 size: tuple[int, int] | None = None) -> list[Detection]:
    """Detections on an array that shows an image at ``scale`` (array = original * scale);
    boxes and masks in the original's pixels (``size`` = its width, height). ``objects``:
    NanoDet's finds on the array when already computed (a batch)."""
    h, w = rgb.shape[:2]
    width, height = size or (round(w / scale), round(h / scale))
    if objects is None and plan.needs_objects:
        objects = nanodet.detect(rgb, plan.threshold("nanodet"))
    found = sorted(_merge(_candidates(rgb, objects, plan)), key=lambda c: -c.score)[: plan.max_detections]
    selfie = None
    out = []
    for c in found:
        mask = None
        if plan.masks and c.label == PERSON:
            if c.prob is None and _mediapipe_ok(rgb):
                selfie = people.person_probability(rgb) if selfie is None else selfie
                c.prob = selfie
            mask = None if c.prob is None else _mask(c.prob, c.box, scale, width, height)
        b = c.box / scale
        bbox = [round(float(np.clip(b[0], 0, width)), 2), round(float(np.clip(b[1], 0, height)), 2),
                round(float(np.clip(b[2], 0, width)), 2), round(float(np.clip(b[3], 0, height)), 2)]
        out.append(Detection(label=c.label, bbox=bbox, score=round(float(np.clip(c.score, 0, 1)), 4),
                             source=c.source, sources=c.sources or [c.source],
                             mask=None if mask is None else mask_rle(mask)))
    return out


def detect_objects(rgb: np.ndarray, classes: list[str] | None = None, min_score: float | None = None,
                   max_detections: int = 100, masks: bool = True) -> list[Detection]:
    """People, faces and COCO objects on an ``HxWx3`` uint8 RGB array, boxes (and masks) in
    its pixels, best first. ``classes`` as ``detect.v1`` takes them (unknown names raise
    ``CallError``)."""
    import cv2

    plan = Plan(resolve_classes(classes), min_score, max_detections, masks)
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    scale = min(1.0, MODEL_SIDE / max(h, w))
    if scale < 1:  # as the tool reads a big file: the models see at most MODEL_SIDE pixels
        small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        return detect_array(small, plan, scale=scale, size=(w, h))
    return detect_array(rgb, plan)


class DetectTool(Tool[DetectArgs, DetectResult]):
    name = "detect.v1"
    modality = "image"
    call_model = Detect
    result_model = DetectResult

    def check(self, args: DetectArgs, ctx: ToolContext) -> None:
        image_input(ctx, args.input)
        resolve_classes(args.classes)

    def run_batch(self, items: list[tuple[DetectArgs, ToolContext]]) -> list[DetectResult]:
        jobs = []
        for args, ctx in items:
            path = ctx.media[args.input]
            info = probe(path)
            rgb, scale = load_cached(path, MODEL_SIDE)
            jobs.append((args, info, rgb, scale, Plan(resolve_classes(args.classes), args.min_score,
                                                      args.max_detections, args.masks)))
        todo = [k for k, job in enumerate(jobs) if job[4].needs_objects]
        found = nanodet.detect_batch([jobs[k][2] for k in todo], [jobs[k][4].threshold("nanodet") for k in todo])
        objects = dict(zip(todo, found))
        return [DetectResult(input=args.input, width=info.width, height=info.height,
                             detections=detect_array(rgb, plan, objects.get(k), scale, (info.width, info.height)))
                for k, (args, info, rgb, scale, plan) in enumerate(jobs)]
