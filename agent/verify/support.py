"""Over-grounding: a grounding the media do not support is dropped.

- an image region: its mask is empty or a speck (under ``MIN_MASK_SHARE`` of the image
  and under ``MIN_MASK_PX``); or the image, looked at again there, shows nothing like
  the entity (support under ``region_min_score``) — then the reasoner is also asked to
  find the entity another way (``reground``); a region around words read in the image
  stands when those words are the entity's name; a thing only seen (no mention, named
  by the region's own labels) is judged by its own score, the words being the labels';
- a speech segment: the words transcribed in that span are not the entity's name;
- a video track: its confidence is under ``MIN_TRACK_SCORE``; one that jumps between
  frames (drift) is flagged;
- a sound or sight that evidences an event: its score is under the setting's threshold.
"""

from __future__ import annotations

from muie.agent.scoring.metrics import box_iou
from muie.agent.verify.context import VerifyContext
from muie.agent.verify.evidence import said_in
from muie.domain import Region, Segment, Track
from muie.draft import Draft, seen_only
from muie.findings import DropGrounding, Finding, Replan

MIN_MASK_SHARE = 0.0005
MIN_MASK_PX = 64
MIN_TRACK_SCORE = 0.25
DRIFT_SHARE = 0.2
"""Share of consecutive frame pairs with disjoint boxes at which a track has drifted."""


def _area(r: Region) -> tuple[int, int]:
    """(mask pixels, image pixels)."""
    assert r.mask is not None
    rle = {"size": r.mask.size, "counts": r.mask.counts.encode()}
    from pycocotools import mask as mask_utils

    return int(mask_utils.area(rle)), r.mask.size[0] * r.mask.size[1]


def _region(r: Region, text: str, type_: str, vc: VerifyContext, seen: bool = False) -> tuple[str, bool] | None:
    """(why it is unsupported, worth finding again), or None when it stands."""
    if r.mask is not None:
        px, total = _area(r)
        if px < MIN_MASK_PX and px < MIN_MASK_SHARE * total:
            return f"its mask is {px} pixels", not seen
    read = vc.evidence.read(r.input, r.bbox)
    if read and said_in(read, text):
        return None
    support = None if seen else vc.evidence.region_support(r.input, r.bbox, text, type_)
    if support is None:  # judged by the model that chose it: its own score
        support = r.score
    if support < vc.settings.region_min_score:
        return (f"the image shows nothing like {text!r} ({type_}) there: support {support:.2f} "
                f"< {vc.settings.region_min_score}"), not seen
    return None


def _segment(s: Segment, text: str, vc: VerifyContext) -> str | None:
    heard = vc.evidence.heard(s.input, s.start_s, s.end_s)
    if heard is None or said_in(heard, text):
        return None
    return f"the words said at {s.start_s:.2f}-{s.end_s:.2f} s are {heard[:60]!r}, not {text!r}"


def _track(t: Track) -> str | None:
    if t.score < MIN_TRACK_SCORE:
        return f"track confidence {t.score:.2f} < {MIN_TRACK_SCORE}"
    return None


def _drifted(t: Track) -> bool:
    pairs = list(zip(t.frames, t.frames[1:]))
    jumps = sum(box_iou(a.bbox, b.bbox) == 0 for a, b in pairs)
    return bool(pairs) and jumps / len(pairs) > DRIFT_SHARE


def unsupported(draft: Draft, vc: VerifyContext) -> list[Finding]:
    out = []
    for e in draft.entities:
        for k, g in enumerate(e.groundings):
            why, again = None, False
            if isinstance(g, Region):
                found = _region(g, e.text, e.type, vc, seen=seen_only(e, g.input))
                if found:
                    why, again = found
            elif isinstance(g, Segment) and g.label is None:
                why = _segment(g, e.text, vc)
            elif isinstance(g, Track):
                why = _track(g)
                if why is None and _drifted(g):
                    out.append(Finding(check="over_grounding", where=f"entity {e.id} track on {g.input}",
                                       severity="warning", confidence=0.6, action="flagged",
                                       message="the track jumps between frames (drift)"))
            if why:
                out.append(Finding(
                    check="over_grounding", where=f"entity {e.id} {g.kind} on {g.input}", message=why,
                    confidence=0.8, action="dropped" + ("; asked to find it again" if again else ""),
                    fix=DropGrounding(owner=e.id, index=k),
                    replan=Replan(goal="reground", input=g.input, entity=e.id) if again and not vc.final else None))
    s = vc.settings
    for v in draft.events:
        for k, g in enumerate(v.trigger.groundings):
            least = s.sound_threshold if isinstance(g, Segment) else s.visual_event_threshold
            if g.label and not v.trigger.mentions and isinstance(g, (Segment, Region)) and g.score < least:
                out.append(Finding(check="over_grounding", where=f"event {v.id} {g.kind} on {g.input}",
                                   message=f"{g.label!r} scores {g.score:.2f} < {least}", confidence=0.7,
                                   action="dropped", fix=DropGrounding(owner=v.id, index=k)))
    return out
