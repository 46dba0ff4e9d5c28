"""``--render DIR``: pictures of a result a person can look at.

For text: an HTML page with each entity mention and event trigger highlighted and
labelled (spaCy's displaCy), and the relations and event arguments listed beneath.
For an image: ``<input id>.png``, the image with masks, boxes and labels.
For audio: ``<input id>.png``, the waveform with the labelled segments.
For a video: ``<input id>.png``, a strip of frames with the tracks drawn.
"""

from __future__ import annotations

import html
from pathlib import Path

from muie.domain import AudioInput, ImageInput, Result, VideoInput
from muie.errors import InputError


def render_result(result: Result, text: str | None, out_dir: Path) -> list[Path]:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"--render {out_dir}", f"cannot create the folder ({e.strerror or e})") from None
    written = []
    if text:
        written.append(_render_text(result, text, out_dir / "text.html"))
    for inp in result.inputs:
        if isinstance(inp, ImageInput):
            from muie.agent.render.image import render_image

            written.append(render_image(result, inp, out_dir / f"{inp.id}.png"))
        if isinstance(inp, AudioInput):
            from muie.agent.render.audio import render_audio

            written.append(render_audio(result, inp, out_dir / f"{inp.id}.png"))
        if isinstance(inp, VideoInput):
            from muie.agent.render.video import render_video

            written.append(render_video(result, inp, out_dir / f"{inp.id}.png"))
    return written


def _render_text(result: Result, text: str, path: Path) -> Path:
    from spacy import displacy

    spans = [{"start": m.start, "end": m.end, "label": e.type} for e in result.entities for m in e.mentions]
    spans += [{"start": m.start, "end": m.end, "label": f"{v.type} (trigger)"}
              for v in result.events for m in v.trigger.mentions]
    spans = sorted(spans, key=lambda s: (s["start"], -s["end"]))
    kept, last = [], -1
    for s in spans:  # displaCy's entity style draws spans that do not overlap
        if s["start"] >= last:
            kept.append(s)
            last = s["end"]
    body = displacy.render({"text": text, "ents": kept, "title": None}, style="ent", manual=True, page=False)
    names = {e.id: e.text for e in result.entities}
    rows = [f"<li>{html.escape(names[r.head])} &mdash; <b>{html.escape(r.type)}</b> &rarr; "
            f"{html.escape(names[r.tail])} ({r.score:.2f})</li>" for r in result.relations]
    events = [f"<li><b>{html.escape(v.type)}</b> &laquo;{html.escape(v.trigger.text)}&raquo;: "
              + ", ".join(f"{html.escape(a.role)} = {html.escape(names[a.entity])}" for a in v.arguments) + "</li>"
              for v in result.events]
    page = (f"<!doctype html><meta charset='utf-8'><title>muie result</title>"
            f"<body style='font-family:sans-serif;max-width:60em;margin:2em auto'>{body}"
            f"<h3>Relations</h3><ul>{''.join(rows) or '<li>none</li>'}</ul>"
            f"<h3>Events</h3><ul>{''.join(events) or '<li>none</li>'}</ul></body>")
    path.write_text(page, encoding="utf-8")
    return path
