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
first, one per place. Each is named by the best detection it holds (people are found by
the person tools, which know them better than the ImageNet classifier), else by its own
labels (``tools.naming``), and typed by the schema's types; what no type fits is left out.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from agent.calls.link_regions import LinkRegions, LinkRegionsArgs, LinkRegionsResult, RegionLink, SeenRegion
from agent.errors import CallError
from agent.settings import Settings
from tools.base import Tool, ToolContext
from tools.grounding import overlapping, text_score
from tools.image_io import image_input
from tools.label_meaning import target_meaning
from tools.naming import name_of, types_of
from tools.propose_regions import as_region, perceive_input
from tools.proposals import Perception, Proposal
from tools.regions import mask_box
from tools.text_models import embedder

WHOLE = ("component", "salient", "detector")
MAX_AREA = 0.6
"""An unnamed proposal covering more of the picture than this is the scene, not a thing."""
HELD = 0.8
"""Share of a detection's pixels inside an object for the object to hold it."""
NAMES_IT = 0.3
"""Least share of an object's pixels a detection it holds must cover to name it."""
CLAIMED = 0.25
"""Share of an object's pixels inside claimed boxes (words read there) that makes it theirs (a sign)."""
PEOPLE = ("person",)
PERSON_SCORE = 0.5
"""Least detector score of a person for a name linked by its type alone to take the person type."""
NAMING_SCORE = {"person": 0.35}
"""Least score of a detection an object holds for it to name the object, by class: the
person tools are trusted lower down than the COCO classes (a weak "laptop" found on a
flower does not name it); a face never names a whole object (one is found on a cat)."""
NAMING_DEFAULT = 0.5
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


def assign(scores: np.ndarray, perc: Perception, groups: list[list[int]], min_score: float) -> dict[int, tuple[int, float]]:
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
        rows, cols = linear_sum_assignment(-best) if best.size else ([], [])
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
    from tools.imagebind_scorer import RegionTextScorer

    texts = [f"a photo of {t.text}, a {t.type}" for t in args.targets] + [NOTHING]
    boxes = [mask_box(p.mask) for p in perc.proposals]
    probs = RegionTextScorer.from_settings(settings).score(perc.rgb, boxes, texts)  # [regions, texts]
    return np.asarray(probs)[:, :-1].T * np.array([[p.quality for p in perc.proposals]])


def _claimed_mask(perc: Perception, boxes: list[list[float]], size: tuple[int, int]) -> np.ndarray:
    """The boxes (pixels of the original image of ``size``) as one mask at the perception size."""
    h, w = perc.work_shape
    out = np.zeros((h, w), bool)
    sx, sy = w / size[0], h / size[1]
    for x0, y0, x1, y1 in boxes:
        out[int(np.floor(y0 * sy)):int(np.ceil(y1 * sy)), int(np.floor(x0 * sx)):int(np.ceil(x1 * sx))] = True
    return out


def _name(perc: Perception, p: Proposal) -> tuple[str, str, float]:
    """(plain name, label, score) of an object: its best detection when it holds one that
    covers enough of it, else its own labels."""
    if p.detection is None:
        n = max(1, np.count_nonzero(p.mask))
        held = [q for q in perc.proposals if q.detection is not None and q.detection.name != "face"
                and q.detection.score >= NAMING_SCORE.get(q.detection.name, NAMING_DEFAULT) and np.count_nonzero(q.mask & p.mask) >= HELD * max(1, np.count_nonzero(q.mask))
                and np.count_nonzero(q.mask) >= NAMES_IT * n]
        if held:
            p = max(held, key=lambda q: q.detection.score if q.detection else 0.0)
    return name_of(p)


def unnamed(perc: Perception, args: LinkRegionsArgs, linked: list[int], settings: Settings, descriptions: dict[str, str],
            size: tuple[int, int]) -> list[SeenRegion]:
    """The whole objects no link and no claimed box overlaps, named and typed, best first."""
    taken = [perc.proposals[i].mask for i in linked]
    claimed = _claimed_mask(perc, args.claimed, size)
    kept: list[Proposal] = []
    for p in sorted(perc.proposals, key=lambda q: -q.quality):
        if len(kept) >= args.max_unnamed:
            break
        if p.source not in WHOLE or p.quality < args.min_quality or p.area > MAX_AREA:
            continue
        if p.detection is not None and p.detection.name == "face":  # part of a person, not a thing
            continue
        if any(overlapping(p.mask, m) for m in taken + [k.mask for k in kept]):
            continue
        if np.count_nonzero(p.mask & claimed) >= CLAIMED * np.count_nonzero(p.mask):
            continue
        kept.append(p)
    named = [_name(perc, p) for p in kept]
    typed = types_of([n for n, _, _ in named], args.unnamed, descriptions, settings.embedding_model,
                     args.type_threshold)
    out = []
    for p, (name, label, score), type_ in zip(kept, named, typed):
        if type_ is None:
            continue
        s = float(np.clip(p.quality * min(1.0, score + 0.5), 0, 1))
        region = as_region(perc, p, s, size)
        if region is not None:
            out.append(SeenRegion(text=name, type=type_, label=label, region=region, score=region.score))
    return out


def _person_type(perc: Perception, p: Proposal, target_type: str, args: LinkRegionsArgs, settings: Settings,
                 descriptions: dict[str, str]) -> str | None:
    """The schema type of a person, when the linked object is seen as one (it is, or holds,
    a person or face detection of at least ``PERSON_SCORE``) and the target has another type."""
    name, label, score = _name(perc, p)
    if name != "person" or label not in PEOPLE or score < PERSON_SCORE or not args.unnamed:
        return None
    (type_,) = types_of([name], args.unnamed, descriptions, settings.embedding_model, args.type_threshold)
    return type_ if type_ is not None and type_ != target_type else None


def link(perc: Perception, args: LinkRegionsArgs, min_score: float, settings: Settings,
         size: tuple[int, int], descriptions: dict[str, str] | None = None) -> tuple[list[RegionLink], list[int]]:
    """The links, and the proposals linked."""
    if not perc.proposals or not args.targets:
        return [], []
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
            from tools.sam import SamSegmenter

            (mask, _), = SamSegmenter.from_settings(settings).segment(perc.rgb, boxes=[mask_box(p.mask)])
        region = as_region(perc, p, s, size, mask)
        if region is not None:
            seen_as = _person_type(perc, p, args.targets[t].type, args, settings, descriptions or {}) \
                if t in by_type else None
            out.append(RegionLink(id=args.targets[t].id, region=region, score=region.score, seen_as=seen_as))
    return out, [i for i, _ in found.values()]


class LinkRegionsTool(Tool[LinkRegionsArgs, LinkRegionsResult]):
    name = "link_regions.v1"
    call_model = LinkRegions
    result_model = LinkRegionsResult

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
            links, linked = link(perc, args, min_score, ctx.settings, size, ctx.descriptions)
            seen = unnamed(perc, args, linked, ctx.settings, ctx.descriptions, size) if args.unnamed else []
            out.append(LinkRegionsResult(input=args.input, width=info.width, height=info.height, links=links,
                                         seen=seen))
        return out
