"""``propose_regions.v1``: an image's labelled region proposals (``tools.proposals``),
masks at the original size, best quality first. The perception is cached per image, so
the linking and segmenting calls that follow cost little."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from muie.calls import Args
from muie.shapes import ImageRegion, ProposalLabel
from muie.tools.base import Tool, ToolContext
from muie.tools.image.boxes import mask_rle
from muie.tools.image.proposals import WORK_SIDE, Perception, Proposal, perceive
from muie.tools.image.regions import mask_box
from muie.tools.media.image_io import ImageInfo, image_input, load_cached, probe


class ProposeRegionsArgs(Args):
    input: str = Field(description="Id of an image input of this run.")
    max_regions: int = Field(default=50, ge=1, le=500, description="Most proposals returned, best quality first.")


class ProposeRegionsResult(BaseModel):
    input: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    regions: list[ImageRegion] = Field(default_factory=list, description="Best quality first; score = quality.")


class ProposeRegions(Args):
    """Perceive an image input: its region proposals (salient objects, detections, segments) with masks, boxes,
    quality and labels. Other image calls on the same input reuse this perception."""

    tool: Literal["propose_regions.v1"] = "propose_regions.v1"
    arguments: ProposeRegionsArgs


def perceive_input(ctx: ToolContext, input_id: str) -> tuple[Perception, ImageInfo]:
    """The perception of an image input of the run (cached per image) and its size."""
    path = ctx.media[input_id]
    rgb, _ = load_cached(path, WORK_SIDE)
    return perceive(rgb, model=ctx.settings.salient_model), probe(path)


def as_region(perc: Perception, p: Proposal, score: float, size: tuple[int, int],
              mask: np.ndarray | None = None) -> ImageRegion | None:
    """A proposal (or another mask at the perception size) as a region of the original
    image of ``size`` (width, height): tight box, RLE mask, best labels; None when empty."""
    full = perc.full_mask(p.mask if mask is None else mask, size[1], size[0])
    if not full.any():
        return None
    return ImageRegion(bbox=[float(v) for v in mask_box(full)], mask=mask_rle(full),
                       score=round(float(np.clip(score, 0, 1)), 4), source=p.source,
                       labels=[ProposalLabel(name=lb.name, score=float(np.clip(lb.score, 0, 1)), source=lb.source)
                               for lb in p.labels(3)])


class ProposeRegionsTool(Tool[ProposeRegionsArgs, ProposeRegionsResult]):
    name = "propose_regions.v1"
    modality = "image"
    call_model = ProposeRegions
    result_model = ProposeRegionsResult

    def check(self, args: ProposeRegionsArgs, ctx: ToolContext) -> None:
        image_input(ctx, args.input)

    def run_batch(self, items: list[tuple[ProposeRegionsArgs, ToolContext]]) -> list[ProposeRegionsResult]:
        out = []
        for args, ctx in items:
            perc, info = perceive_input(ctx, args.input)
            ranked = sorted(perc.proposals, key=lambda q: -q.quality)[: args.max_regions]
            regions = [r for p in ranked if (r := as_region(perc, p, p.quality, (info.width, info.height)))]
            out.append(ProposeRegionsResult(input=args.input, width=info.width, height=info.height, regions=regions))
        return out
