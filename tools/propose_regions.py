"""``propose_regions.v1``: an image's labelled region proposals (``tools.proposals``),
masks at the original size, best quality first. The perception is cached per image, so
the linking and segmenting calls that follow cost little."""

from __future__ import annotations

import numpy as np

from agent.calls.propose_regions import ProposeRegions, ProposeRegionsArgs, ProposeRegionsResult
from agent.calls.segment_image import ImageRegion, ProposalLabel
from tools.base import Tool, ToolContext
from tools.boxes import mask_rle
from tools.image_io import ImageInfo, image_input, load_cached, probe
from tools.proposals import WORK_SIDE, Perception, Proposal, perceive
from tools.regions import mask_box


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
