"""``segment_image.v1``: the region(s) of a target in an image, as masks and boxes.

The embedded image segmenter. The image is read at most ``WORK_SIDE`` pixels on its
longer side and perceived once (``tools.proposals``: salient masks, detections,
segments, each labelled by the ImageNet classifier); the target, named by words, a box
or a point, picks its region(s) among them (``tools.grounding``). Masks are brought back
to the original size, encoded as COCO RLE, and each box is the tight box of its mask in
original pixels. Words that match nothing well enough give no region: over-grounding a
thing the picture does not show is an error, not a guess.

``segment(rgb, args)`` does the same on an array, for callers that hold one.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from muie.calls import Args, CallKey
from muie.domain import BBox
from muie.errors import CallError
from muie.settings import Settings, default_settings
from muie.shapes import ImageRegion, ProposalLabel
from muie.tools.base import Tool, ToolContext
from muie.tools.image.boxes import mask_rle
from muie.tools.image.grounding import Match, by_box, by_point, by_text
from muie.tools.image.label_meaning import target_meaning
from muie.tools.image.proposals import WORK_SIDE, perceive
from muie.tools.image.regions import mask_box
from muie.tools.media.image_io import check_box, image_input, load_cached, probe
from muie.tools.models.text_models import embedder

Point = Annotated[list[float], Field(min_length=2, max_length=2)]


class SegmentImageArgs(Args):
    """What to segment in which image: words, a box, a point, or words with a place."""

    input: str = Field(description="Id of an image input of this run.")
    text: str | None = Field(default=None, min_length=1, description="The target's words, e.g. 'cat', 'espresso'.")
    entity_type: str | None = Field(default=None, min_length=1, description="The target's type, e.g. 'animal'.")
    box: BBox | None = Field(default=None, description="[x0, y0, x1, y1] in original pixels: segment what is in it.")
    point: Point | None = Field(
        default=None, description="[x, y] in original pixels: segment what is under it (a box, when given, wins)."
    )
    max_regions: int = Field(default=5, ge=1, le=100, description="Most regions returned (several instances).")
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Least score of a region found by words; default: the setting."
    )
    entity: str | None = Field(default=None, description="The draft entity this call grounds, if any.")

    @model_validator(mode="after")
    def _has_target(self) -> SegmentImageArgs:
        if self.text is None and self.box is None and self.point is None:
            raise ValueError("name a target: text (with an optional entity_type), a box, or a point")
        if self.box is not None and (self.box[2] <= self.box[0] or self.box[3] <= self.box[1]):
            raise ValueError(f"box {self.box} must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
        return self






class SegmentImageResult(BaseModel):
    input: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    regions: list[ImageRegion] = Field(default_factory=list, description="Best first; empty when the target is absent.")


class SegmentImage(Args):
    """Segment a target in an image input, named by words (entity text and type), a box or a point; returns masks
    and boxes, or no region when the picture does not show it."""

    tool: Literal["segment_image.v1"] = "segment_image.v1"
    arguments: SegmentImageArgs


def segment(rgb: np.ndarray, args: SegmentImageArgs, settings: Settings | None = None,
            scale: float = 1.0, size: tuple[int, int] | None = None) -> list[ImageRegion]:
    """Regions of the target on an array that shows an image at ``scale`` (array pixels =
    original * scale), best first; the args' box and point, and every region, in the
    original's pixels (``size`` = its width, height; default: the array's at ``scale``)."""
    settings = settings or default_settings()
    h, w = rgb.shape[:2]
    width, height = size or (round(w / scale), round(h / scale))
    perc = perceive(rgb, model=settings.salient_model)
    meaning = None
    if args.text:
        meaning = target_meaning(embedder(settings.embedding_model), args.text, args.entity_type)
    min_score = settings.region_min_score if args.min_score is None else args.min_score
    matches: list[Match]
    if args.box is not None:
        matches = [by_box(perc, [v * scale for v in args.box], meaning)]
    elif args.point is not None:
        found = by_point(perc, [v * scale for v in args.point], meaning, min_score)
        matches = [found] if found else []
    else:
        assert meaning is not None  # the args model asks for one of text, box, point
        matches = by_text(perc, meaning, min_score, args.max_regions)
    return [_region(perc.full_mask(m.mask, height, width), m) for m in matches[: args.max_regions]]


def _region(mask: np.ndarray, m: Match) -> ImageRegion:
    """A match as the result shows it: the mask (original size) as RLE, its tight box."""
    labels = [ProposalLabel(name=lb.name, score=float(np.clip(lb.score, 0, 1)), source=lb.source) for lb in m.labels]
    return ImageRegion(bbox=[float(v) for v in mask_box(mask)], mask=mask_rle(mask),
                       score=round(float(np.clip(m.score, 0, 1)), 4), source=m.source, by=m.by, labels=labels)


class SegmentImageTool(Tool[SegmentImageArgs, SegmentImageResult]):
    name = "segment_image.v1"
    modality = "image"
    call_model = SegmentImage
    result_model = SegmentImageResult

    def key(self, args: SegmentImageArgs) -> CallKey:
        return CallKey(tool=self.name, input=args.input, entity=args.entity)

    def check(self, args: SegmentImageArgs, ctx: ToolContext) -> None:
        info = image_input(ctx, args.input)
        check_box(info, args.box, args.input)
        if args.point is not None:
            x, y = args.point
            if not (0 <= x < info.width and 0 <= y < info.height):
                raise CallError(f"point {args.point} is not inside input {args.input!r} "
                                f"({info.width}x{info.height} pixels)")

    def run_batch(self, items: list[tuple[SegmentImageArgs, ToolContext]]) -> list[SegmentImageResult]:
        out = []
        for args, ctx in items:
            path = ctx.media[args.input]
            info = probe(path)
            rgb, scale = load_cached(path, WORK_SIDE)
            regions = segment(rgb, args, ctx.settings, scale, (info.width, info.height))
            out.append(SegmentImageResult(input=args.input, width=info.width, height=info.height, regions=regions))
        return out
