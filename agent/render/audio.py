"""``--render``: an audio input's waveform with every segment grounding drawn and labelled.

Entities are drawn in one lane, event triggers in another, each span labelled with its
text and type, so a person sees at once what was heard where.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from muie.domain import AudioInput, Result, Segment

WIDTH_PX, HEIGHT_PX, DPI = 1600, 520, 100


def _spans(result: Result, input_id: str) -> list[tuple[float, float, str, int]]:
    out = []
    for e in result.entities:
        out += [(g.start_s, g.end_s, f"{e.text} [{e.type}]", 0)
                for g in e.groundings if isinstance(g, Segment) and g.input == input_id]
    for v in result.events:
        out += [(g.start_s, g.end_s, f"{v.type}: {v.trigger.text}", 1)
                for g in v.trigger.groundings if isinstance(g, Segment) and g.input == input_id]
    return sorted(out)


def render_audio(result: Result, inp: AudioInput, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from muie.tools.media.audio_io import SR, load_cached

    x = load_cached(inp.path)
    t = np.arange(len(x)) / SR
    fig, (wave, lanes) = plt.subplots(2, 1, figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    step = max(1, len(x) // 8000)  # an envelope, not every sample
    if len(x):
        n = len(x) // step * step
        env = np.abs(x[:n]).reshape(-1, step).max(axis=1) if n else np.abs(x)
        tt = t[:n:step] if n else t
        wave.fill_between(tt, -env, env, color="#4a6fa5", linewidth=0)
    wave.set_ylabel("amplitude")
    wave.set_title(f"{inp.id}: {Path(inp.path).name} ({inp.duration_s:.1f} s)")
    colors = plt.get_cmap("tab10")
    for k, (a, b, label, lane) in enumerate(_spans(result, inp.id)):
        c = colors(k % 10)
        wave.axvspan(a, b, color=c, alpha=0.25)
        y = (1 - lane) * 1.0 + 0.15 + 0.35 * (k % 2)
        lanes.barh(y, b - a, left=a, height=0.3, color=c, alpha=0.8)
        lanes.text(a, y + 0.18, label, fontsize=8, va="bottom")
    lanes.set_yticks([0.4, 1.4], ["events", "entities"])
    lanes.set_ylim(0, 2.2)
    lanes.set_xlabel("seconds")
    lanes.set_xlim(0, max(inp.duration_s, 0.1))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
