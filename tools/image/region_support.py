"""How well an image region shows a named thing, judged again from the image's own
perception: the evidence the verifier weighs a region by.

The region's box is placed on the perception (its labelled proposals, cached per image);
the proposals that are that region (box IoU at least ``SAME_REGION``, or holding it
almost whole) are scored against the thing's words and type exactly as ``segment_image``
and ``link_regions`` score them, and the best score is the region's support. A region
where nothing of that kind was seen has support 0.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from muie.tools.base import ToolContext
from muie.tools.image.boxes import iou
from muie.tools.image.grounding import text_score
from muie.tools.image.label_meaning import target_meaning
from muie.tools.image.propose_regions import perceive_input
from muie.tools.image.regions import mask_box
from muie.tools.models.text_models import embedder

SAME_REGION = 0.5
"""Box IoU at which a proposal is the region judged."""


def region_support(ctx: ToolContext, input_id: str, bbox: list[float], text: str, entity_type: str) -> float | None:
    """The support in [0, 1] of ``bbox`` (original pixels of image ``input_id``) for a thing
    named ``text`` of type ``entity_type``: 0 when its words and type name nothing the
    labellers know (nothing in the picture can show it, as far as they can tell); None
    when regions are scored by another model (ImageBind), whose judgement stands."""
    if ctx.settings.region_scorer != "embedded":
        return None
    meaning = target_meaning(embedder(ctx.settings.embedding_model), text, entity_type)
    if not meaning.known:
        return 0.0
    perc, info = perceive_input(ctx, input_id)
    h, w = perc.work_shape
    sx, sy = w / info.width, h / info.height
    box = np.array([[bbox[0] * sx, bbox[1] * sy, bbox[2] * sx, bbox[3] * sy]], np.float32)
    cands = [p for p in perc.proposals if p.source != "image"]
    if not cands:
        return 0.0
    same = iou(np.stack([mask_box(p.mask) for p in cands]), box)[:, 0] >= SAME_REGION
    return float(max((text_score(p, meaning) for p, s in zip(cands, same) if s), default=0.0))


class RegionSupportArgs(BaseModel):
    input: str
    bbox: list[float]
    text: str
    entity_type: str


class RegionSupport(BaseModel):
    support: float | None


class RegionSupportCheck:
    """The verifier's look at a region, shaped as a tool (a versioned name, typed arguments
    and result, a batched run) so that the tool cache keeps it: a run whose tool results
    all come from the store judges its regions from the store too, loading no model.
    Not in the registry: no reasoner calls it."""

    name = "region_support.v1"
    result_model = RegionSupport

    def run_batch(self, items: list[tuple[RegionSupportArgs, ToolContext]]) -> list[RegionSupport]:
        return [RegionSupport(support=region_support(ctx, a.input, a.bbox, a.text, a.entity_type)) for a, ctx in items]
