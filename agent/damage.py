"""Damaged media, said three ways: a warning line, a finding in the trace, ``damage`` on the input.

What counts as damage, and when a file is refused instead, is ``tools.damage``'s rule:
nothing decodes, bad input; part decodes, kept with what decodes and said here. Images
and recordings are decoded whole when the inputs are built, so their damage is known
before any work; a video's packets are counted then (a cut file shows), and packets
that fail to decode are met by the tools, so the finish node looks again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from muie.domain import AudioInput, ImageInput, Input, VideoInput
from muie.findings import Finding

log = logging.getLogger("muie")


def damage_warning(inp: ImageInput | AudioInput | VideoInput) -> str:
    """The stderr line for a damaged input."""
    return f"warning: {inp.path} ({inp.id}) is damaged, using what decodes: {inp.damage}"


def damage_findings(inputs: Sequence[Input]) -> list[Finding]:
    """One trace finding per damaged input."""
    return [Finding(check="damaged_media", where=i.id, severity="warning", message=i.damage,
                    action="kept what decodes; the result's input says so")
            for i in inputs if getattr(i, "damage", None)]


def late_damage(inputs: Sequence[Input]) -> tuple[list[Input], list[Finding]]:
    """The inputs with the damage the tools met while decoding videos, and a finding (and
    a warning line) for each input newly found damaged."""
    videos = [i for i in inputs if isinstance(i, VideoInput) and not i.damage]
    if not videos:
        return list(inputs), []
    from muie.tools.media.video_io import damage_of

    found: dict[str, VideoInput] = {}
    for v in videos:
        note = damage_of(v.path)
        if note:
            found[v.id] = v.model_copy(update={"damage": note})
            log.warning(damage_warning(found[v.id]))
    out = [found.get(i.id, i) for i in inputs]
    return out, damage_findings(list(found.values()))
