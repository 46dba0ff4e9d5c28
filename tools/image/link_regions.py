"""``link_regions.v1``: entities linked to image regions, jointly.

The image is perceived once (``tools.proposals``: labelled region proposals). Every
target is scored against every proposal as ``segment_image`` scores words
(``tools.grounding.text_score``). Proposals that are the same object (mask IoU at least
``SAME_OBJECT``) form one object; the targets are assigned to objects by the Hungarian
algorithm on those scores, so one object is never two entities; a pair under the
threshold is no link. Two links whose masks still overlap (one holds most of the other:
a group and one of its members) keep the better one, and the other target is solved
again without that object.

With ``MUIE_REGION_SCORER=imagebind`` ImageBind scores the proposals' crops against the
targets' words instead; with ``MUIE_IMAGE_SEGMENTER=sam`` the linked region's mask is
SAM's for the proposal's box.

Asked for what nobody names (``unnamed``: the schema's entity types), the whole objects
(salient pieces, detections) of enough quality that no link and no region already
grounded in the image (``claimed``: words read there) overlaps are returned too, best
first, one per place, named and typed (``tools.seen_regions``). A target linked by its
type alone (a name) to a region the person tools see as a person is told so
(``seen_as``): the text may have typed a person's name as an organization.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from muie.calls import Args, CallKey
from muie.domain import BBox
from muie.errors import CallError
from muie.settings import Settings
from muie.shapes import LinkTarget, RegionLink, SeenRegion
from muie.tools.assignment import max_assignment
from muie.tools.base import Tool, ToolContext
from muie.tools.image.grounding import overlapping, text_score
from muie.tools.image.label_meaning import target_meaning
from muie.tools.image.proposals import Perception, Proposal
from muie.tools.image.propose_regions import as_region, perceive_input
from muie.tools.image.regions import mask_box
from muie.tools.image.seen_regions import person_type, unnamed
from muie.tools.media.image_io import image_input
from muie.tools.models.text_models import embedder


class LinkRegionsArgs(Args):
    input: str = Field(description="Id of an image input of this run.")
    targets: list[LinkTarget] = Field(default_factory=list, max_length=256)
    min_score: float | None = Field(default=None, ge=0, le=1,
                                    description="Least score of a link; default: the setting.")
    unnamed: list[str] = Field(default_factory=list, max_length=256, description=(
        "The schema's entity types: when given, the whole objects no target claims are returned too, "
        "named by their labels and typed by these."))
    claimed: list[BBox] = Field(default_factory=list, max_length=1024, description=(
        "Boxes already grounded in this image otherwise (words read there): objects they cover are not unnamed."))
    min_quality: float = Field(default=0.8, ge=0, le=1, description="Least quality of an unnamed object.")
    type_threshold: float = Field(default=0.4, ge=0, le=1,
                                  description="Least similarity of an unnamed object's name to its type.")
    max_unnamed: int = Field(default=4, ge=0, le=32, description="Most unnamed objects, best first.")

    @model_validator(mode="after")
    def _something_to_do(self) -> LinkRegionsArgs:
        if not self.targets and not self.unnamed:
            raise ValueError("give targets, or the entity types to name what is seen (unnamed), or both")
        return self






class LinkRegionsResult(BaseModel):
    input: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    links: list[RegionLink] = Field(default_factory=list, description="One per target that is seen; none for the rest.")
    seen: list[SeenRegion] = Field(default_factory=list, description="What no target claims (when asked: unnamed).")


class LinkRegions(Args):
    """Link entities (id, text, type) to the regions of an image input that show them, solved jointly over all
    entities and regions; an entity the picture does not show gets no region. With the schema's entity types
    (unnamed), also return the things the picture shows that no entity claims, named and typed."""

    tool: Literal["link_regions.v1"] = "link_regions.v1"
    arguments: LinkRegionsArgs


NEAR_MISS = 0.5
"""Share of the link threshold at which a named entity left without a region keeps an
object of its type from being given out as another thing seen."""
SAME_OBJECT = 0.6
"""Mask IoU at which two proposals are the same object."""
MAX_ROUNDS = 8


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.count_nonzero(a & b)
    return inter / max(1, np.count_nonzero(a) + np.count_nonzero(b) - inter)


def objects(proposals: list[Proposal]) -> list[list[int]]:
    """Proposals grouped into objects (union of pairs at ``SAME_OBJECT`` mask IoU); the
    whole picture is never an object."""
    idx = [i for i, p in enumerate(proposals) if p.source != "image"]
    parent = {i: i for i in idx}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in range(len(idx)):
        for b in range(a + 1, len(idx)):
            i, j = idx[a], idx[b]
            if _iou(proposals[i].mask, proposals[j].mask) >= SAME_OBJECT:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in idx:
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def assign(scores: np.ndarray, perc: Perception, groups: list[list[int]],
           min_score: float) -> dict[int, tuple[int, float]]:
    """target index -> (proposal index, score): the joint assignment, conflicts resolved."""
    n = scores.shape[0]
    banned: set[tuple[int, int]] = set()  # (target, group) pairs ruled out by a conflict
    links: dict[int, tuple[int, float]] = {}
    for _ in range(MAX_ROUNDS):
        best = np.zeros((n, len(groups)))
        pick = np.zeros((n, len(groups)), int)
        for g, members in enumerate(groups):
            sub = scores[:, members]
            pick[:, g] = np.asarray(members)[sub.argmax(axis=1)]
            best[:, g] = sub.max(axis=1)
        for t, g in banned:
            best[t, g] = 0.0
        rows, cols = max_assignment(best) if best.size else ([], [])
        links = {int(t): (int(pick[t, g]), float(best[t, g])) for t, g in zip(rows, cols) if best[t, g] >= min_score}
        order = sorted(links, key=lambda t: -links[t][1])
        conflict = None
        for a in range(len(order)):
            for b in range(a):
                pa, pb = perc.proposals[links[order[a]][0]], perc.proposals[links[order[b]][0]]
                if overlapping(pa.mask, pb.mask):
                    conflict = order[a]
                    break
            if conflict is not None:
                break
        if conflict is None:
            return links
        g = next(k for k, members in enumerate(groups) if links[conflict][0] in members)
        banned.add((conflict, g))
    return links


NOTHING = "something else"
"""ImageBind's alternative to every target: a region that shows none of them scores high here."""


def imagebind_scores(perc: Perception, args: LinkRegionsArgs, settings: Settings) -> np.ndarray:
    """[targets, proposals] probabilities from ImageBind: each region's crop against the
    targets' words and a null text, softmax over them (so one target alone is not sure)."""
    from muie.tools.models.imagebind_scorer import RegionTextScorer

    texts = [f"a photo of {t.text}, a {t.type}" for t in args.targets] + [NOTHING]
    boxes = [mask_box(p.mask) for p in perc.proposals]
    probs = RegionTextScorer.from_settings(settings).score(perc.rgb, boxes, texts)  # [regions, texts]
    return np.asarray(probs)[:, :-1].T * np.array([[p.quality for p in perc.proposals]])


def link(perc: Perception, args: LinkRegionsArgs, min_score: float, settings: Settings,
         size: tuple[int, int], descriptions: dict[str, str] | None = None,
         ) -> tuple[list[RegionLink], list[int], list[tuple[str, np.ndarray]]]:
    """The links, the proposals linked, and (type, scores over the proposals) of each target
    not linked whose words the labellers know (a name known only by its type says nothing
    about which object it would be)."""
    if not perc.proposals or not args.targets:
        return [], [], []
    if settings.region_scorer == "imagebind":
        scores = imagebind_scores(perc, args, settings)
    else:
        emb = embedder(settings.embedding_model)
        meanings = [target_meaning(emb, t.text, t.type) for t in args.targets]
        scores = np.array([[text_score(p, m) if m.known else 0.0 for p in perc.proposals] for m in meanings])
    found = assign(scores, perc, objects(perc.proposals), min_score)
    out = []
    by_type = {t for t in found if settings.region_scorer != "imagebind" and meanings[t].via != "text"}
    for t, (i, s) in sorted(found.items()):
        p = perc.proposals[i]
        mask = p.mask
        if settings.image_segmenter == "sam":  # SAM's mask for the proposal's box
            from muie.tools.models.sam import SamSegmenter

            (mask, _), = SamSegmenter.from_settings(settings).segment(perc.rgb, boxes=[mask_box(p.mask)])
        region = as_region(perc, p, s, size, mask)
        if region is not None:
            seen_as = person_type(perc, p, args.targets[t].type, args, settings, descriptions or {}) \
                if t in by_type else None
            out.append(RegionLink(id=args.targets[t].id, region=region, score=region.score, seen_as=seen_as))
    unlinked = [(args.targets[t].type, scores[t]) for t in range(len(args.targets))
                if t not in found and settings.region_scorer != "imagebind" and meanings[t].via == "text"]
    return out, [i for i, _ in found.values()], unlinked


class LinkRegionsTool(Tool[LinkRegionsArgs, LinkRegionsResult]):
    name = "link_regions.v1"
    modality = "image"
    call_model = LinkRegions
    result_model = LinkRegionsResult

    def key(self, args: LinkRegionsArgs) -> CallKey:
        return CallKey(tool=self.name, input=args.input, given=len(args.targets))

    def check(self, args: LinkRegionsArgs, ctx: ToolContext) -> None:
        image_input(ctx, args.input)
        ids = [t.id for t in args.targets]
        if len(set(ids)) != len(ids):
            raise CallError("target ids must be unique")

    def run_batch(self, items: list[tuple[LinkRegionsArgs, ToolContext]]) -> list[LinkRegionsResult]:
        out = []
        for args, ctx in items:
            perc, info = perceive_input(ctx, args.input)
            min_score = ctx.settings.region_min_score if args.min_score is None else args.min_score
            size = (info.width, info.height)
            links, linked, unlinked = link(perc, args, min_score, ctx.settings, size, ctx.descriptions)
            seen = unnamed(perc, args, linked, ctx.settings, ctx.descriptions, size, unlinked,
                           NEAR_MISS * min_score) if args.unnamed else []
            out.append(LinkRegionsResult(input=args.input, width=info.width, height=info.height, links=links,
                                         seen=seen))
        return out
