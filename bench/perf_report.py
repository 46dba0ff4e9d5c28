"""The tables and the chart of ``bench/perf.py``: per-modality rows printed, and the
throughput, memory and time-in-tools figures drawn."""

from __future__ import annotations

from pathlib import Path

RTF_TARGET = 0.15  # the target for the whole agent on speech, with tiny.en on 2 cores
NEAR_CUT_S = 1.0  # a name this close to a cut between pieces is counted as "near a cut"

def chart(rows: list[dict], path: Path) -> None:
    """Five panels, each over the rows that have its figure: latency (median bars, p90
    whiskers, the image target), batch throughput, overhead, RTF, and where an image's time goes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("latency_ms_median", "latency per case, median; p90 whisker (ms, log)"),
              ("throughput_per_s", "throughput, batch (cases/s)"),
              ("overhead_single", "agent overhead, one case (share of time)"),
              ("rtf", f"audio real-time factor (target <= {RTF_TARGET})"),
              ("tools", "image: median s per image, by tool (target dashed)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(18, 3.6), gridspec_kw={"width_ratios": [1.2, 1, 1, 1, 1.4]})
    for ax, (key, title) in zip(axes, panels):
        done = [r for r in rows if key in r]
        ax.set_title(title, fontsize=9)
        if key == "tools":
            _tools_panel(ax, done[0] if done else None)
            continue
        ax.bar([r["modality"] for r in done], [r[key] for r in done], color="#4c72b0")
        ax.tick_params(axis="x", labelsize=8)
        for i, r in enumerate(done):
            v = r[key]
            top = max(v, r.get("latency_ms_p90", 0.0)) if key == "latency_ms_median" else v  # above the whisker
            ax.annotate(f"{v:.3g}" if v < 1000 else f"{v:,.0f}", (i, top), ha="center", va="bottom", fontsize=8)
        if key == "latency_ms_median" and done:
            ax.set_yscale("log")
            ax.set_ylim(top=6 * max(max(r[key], r.get("latency_ms_p90", 0.0)) for r in done))
            for i, r in enumerate(done):
                if "latency_ms_p90" in r:
                    ax.vlines(i, r[key], r["latency_ms_p90"], color="#333333", linewidth=1)
                    ax.hlines(r["latency_ms_p90"], i - 0.12, i + 0.12, color="#333333", linewidth=1)
                if "latency_s_target" in r:
                    ax.hlines(1000 * r["latency_s_target"], i - 0.45, i + 0.45, color="#c44e52", linestyle="--",
                              linewidth=1, label=f"image target {r['latency_s_target']:g} s")
            if any("latency_s_target" in r for r in done):
                ax.legend(fontsize=7, loc="upper left")
        if key == "rtf":
            ax.axhline(RTF_TARGET, color="#c44e52", linestyle="--", linewidth=1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tools_panel(ax, row: dict | None) -> None:  # type: ignore[no-untyped-def]
    """Horizontal bars: the median seconds per image, of the whole image, then of each tool
    (over the images it ran on) and outside the tools, with their shares of all the time."""
    if row is None:
        ax.set_axis_off()
        return
    bars = [("whole image", row["latency_ms_median"] / 1000, 1.0)]  # top to bottom
    bars += [(t, x["median_s"], x["share"]) for t, x in row["tools"].items()]
    bars.append(("outside tools", row["outside_tools_s_median"], 1 - row["tool_rounds_share"]))
    names, values, shares = zip(*bars[::-1])
    ax.barh(names, values, color=["#4c72b0" if t == "whole image" else "#8c8c8c" if t == "outside tools"
                                  else "#55a868" for t in names])
    ax.axvline(row["latency_s_target"], color="#c44e52", linestyle="--", linewidth=1)
    ax.tick_params(axis="y", labelsize=7)
    for y, (v, share) in enumerate(zip(values, shares)):
        ax.annotate(f"{v:.2f} s, {share:.0%}", (v, y), va="center", fontsize=7, xytext=(2, 0),
                    textcoords="offset points")
    ax.set_xlim(0, 1.35 * max(*values, row["latency_s_target"]))


def _cell(r: dict, key: str, fmt: str) -> str:
    return format(r[key], fmt) if key in r else "-"


def print_table(rows: list[dict]) -> None:
    print(f"{'modality':13s} {'latency ms':>10s} {'batch/s':>8s} {'overhead 1':>10s} {'overhead N':>10s} "
          f"{'peak RSS MB':>11s} {'RTF':>6s}")
    for r in rows:
        if "status" in r:
            print(f"{r['modality']:13s} {r['status']}")
            continue
        print(f"{r['modality']:13s} {_cell(r, 'latency_ms_median', '10.1f')} {_cell(r, 'throughput_per_s', '8.1f')} "
              f"{_cell(r, 'overhead_single', '10.1%')} {_cell(r, 'overhead_batch', '10.1%')} "
              f"{_cell(r, 'peak_rss_mb', '11.0f')} {_cell(r, 'rtf', '6.3f')}")
    for r in rows:
        if "tools" in r:
            print_image(r)
    for r in rows:
        if "rtf" not in r:
            continue
        print(f"\n{r['modality']}: {r['unit']}, {r['whisper_model']} on {r['cores']} core(s), models loaded in "
              f"{r['load_s']:.1f} s before the clock")
        runs = f"median of {r['cases']} runs, " if r.get("cases", 1) > 1 else ""
        print(f"  RTF {r['rtf']:.3f} ({runs}{r['latency_ms_median'] / 1000:.1f} s for {r['audio_s']:.0f} s of audio); "
              f"target RTF <= {r['rtf_target']} with tiny.en on 2 cores: "
              f"{'met' if r['rtf'] <= r['rtf_target'] else 'not met'}")
        print(f"  entities {r['entities']}; names found (tIoU >= 0.5) {r['names_found']}/{r['names_said']}")
        if "samples_mb" in r:
            print(f"  peak RSS {r['peak_rss_mb']:.0f} MB ({r['rss_before_mb']:.0f} MB before the recording: "
                  f"+{r['rss_growth_mb']:.0f} MB); its samples {r['samples_mb']:.1f} MB "
                  f"(growth {r['rss_growth_mb'] / r['samples_mb']:.1f}x the samples; file {r['file_mb']:.1f} MB)")
            print(f"  {r['cuts']} cuts between transcription pieces, {r['cuts_in_speech']} inside speech; "
                  f"names a cut falls inside: found {r['names_cut_found']}/{r['names_cut_said']}; "
                  f"names within {NEAR_CUT_S:.0f} s of a cut: "
                  f"found {r['names_near_cut_found']}/{r['names_near_cut_said']}")


def print_image(r: dict) -> None:
    """The image row in detail: latency against the target, and the time per tool."""
    median, p90 = r["latency_ms_median"] / 1000, r["latency_ms_p90"] / 1000
    print(f"\n{r['modality']}: {r['cases']} {r['unit']}, on {r['cores']} core(s), models loaded in "
          f"{r['load_s']:.1f} s before the clock (one run on another image)")
    print(f"  latency per image: median {median:.2f} s, p90 {p90:.2f} s, max {r['latency_ms_max'] / 1000:.2f} s; "
          f"target <= {r['latency_s_target']:g} s median per 640x480 image with all tools on 2 cores: "
          f"{'met' if median <= r['latency_s_target'] else 'not met'}")
    print(f"  CPU time per image (all threads and the OCR's processes): median {r['cpu_s_median']:.2f} s "
          f"(on {r['cores']} idle core(s) the latency is at least {r['cpu_s_median'] / r['cores']:.2f} s; "
          f"a busy machine stretches the latency, not the CPU time)")
    print(f"  entities {r['entities']}, of them on an image region {r['entities_on_regions']}")
    print(f"  time per tool: {'tool':24s} {'median s':>8s} {'images':>7s} {'share':>6s}   (median s: per image, "
          f"over the images it ran on; share: of all the images' time; tools of one round run side by side, "
          f"so the shares overlap)")
    for name, t in r["tools"].items():
        print(f"  {'':14s} {name:24s} {t['median_s']:8.3f} {t['images']:>3d}/{r['cases']:<3d} {t['share']:6.1%}")
    print(f"  {'':14s} {'a tool running':24s} {r['tool_rounds_s_median']:8.3f} {'':7s} {r['tool_rounds_share']:6.1%}"
          f"   (each round's longest tool)")
    print(f"  {'':14s} {'outside tools':24s} {r['outside_tools_s_median']:8.3f} {'':7s} "
          f"{1 - r['tool_rounds_share']:6.1%}   (graph, validation, checks, merging)")


