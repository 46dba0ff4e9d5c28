"""The LLM reasoner beside the embedded one on the grounded benchmark's text+image cases.

Runs both reasoners on the same cases (a caption with a photo: pasted pictures, signs,
pictures the caption names but does not show), scores each with ``muie eval``'s metrics,
and prints, per reasoner: NER / RE / event-trigger F1, image box accuracy at IoU 0.5,
seconds per case, and how many cases fell back to the embedded reasoner.

The LLM is the endpoint the settings name (``MUIE_LLM_BASE_URL``, ``MUIE_LLM_MODEL``...);
with ``--local-llama`` the bench starts llama.cpp's server with the small Qwen model that
``make setup`` installs (text only: images are not sent, the LLM reads their OCR words).

    .venv/bin/python bench/llm_compare.py [--out bench/results/grounded] [--cases 6] [--local-llama]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import without_memory  # noqa: E402
from bench.grounded.generate import DEFAULT_PER_KIND, generate  # noqa: E402
from bench.grounded_eval import on_inputs  # noqa: E402
from muie.agent.api import Agent, extract  # noqa: E402
from muie.agent.scoring import evaluate, load_cases  # noqa: E402
from muie.domain import Result  # noqa: E402
from muie.settings import Settings  # noqa: E402

KINDS = ("image_paste", "image_ocr", "image_negative")


def text_image_cases(cases: list[dict], limit: int) -> list[dict]:
    """Cases with a text and an image, taken round-robin over the kinds (so a few cover all)."""
    pools = {k: [c for c in cases if c["kind"] == k and {i["modality"] for i in c["inputs"]} == {"text", "image"}]
             for k in KINDS}
    out: list[dict] = []
    while len(out) < limit and any(pools.values()):
        for k in KINDS:
            if pools[k] and len(out) < limit:
                out.append(pools[k].pop(0))
    return out


def run(agent: Agent, cases: list[dict], schema: dict, root: Path) -> tuple[list[str], float, int]:
    lines, fallbacks = [], 0
    t0 = time.perf_counter()
    for c in cases:
        images = [i for i in c["inputs"] if i["modality"] == "image"]
        r = extract(text=c["text"], images=[str(root / i["path"]) for i in images], schema=schema, agent=agent)
        r = on_inputs(r, {f"image{k}": i["id"] for k, i in enumerate(images)})
        r = r.model_copy(update={"inputs": Result.model_validate({"inputs": c["inputs"]}).inputs})
        fallbacks += any("fallback" in s.summary for s in r.trace if s.node == "reason")
        lines.append(json.dumps({"id": c["id"], **json.loads(r.to_json(indent=None))}))
    return lines, (time.perf_counter() - t0) / max(1, len(cases)), fallbacks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "grounded")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cases", type=int, default=6, help="text+image cases to run (round-robin over the kinds)")
    ap.add_argument("--local-llama", action="store_true", help="start llama.cpp's server with the small Qwen model")
    a = ap.parse_args()
    without_memory()
    manifest = a.out / "MANIFEST.json"
    made = json.loads(manifest.read_text()) if manifest.exists() else {}
    if made.get("seed") != a.seed:
        generate(a.out, seed=a.seed, per_kind=DEFAULT_PER_KIND, jobs=2)
    cases = [json.loads(x) for x in (a.out / "cases.jsonl").read_text(encoding="utf-8").splitlines() if x]
    chosen = text_image_cases(cases, a.cases)
    schema = json.loads((a.out / "schema.json").read_text())
    server = None
    overrides: dict[str, object] = {}
    if a.local_llama:
        from muie.tools.install.gguf import start_server
        from tests.support.llm_server import wait_ready

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = start_server(port)
        wait_ready(f"http://127.0.0.1:{port}/v1/models", proc=server)
        overrides = dict(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_model="qwen", llm_send_images=False,
                         llm_timeout_s=600, llm_max_tokens=512)
    gold_path = a.out / "llm_compare.gold.jsonl"
    gold_path.write_text("".join(json.dumps(c) + "\n" for c in chosen), encoding="utf-8")
    rows = []
    try:
        for name in ("embedded", "llm"):
            settings = Settings.from_env(**overrides)
            lines, per_case, fallbacks = run(Agent(name, settings=settings), chosen, schema, a.out)
            pred = a.out / f"llm_compare.{name}.jsonl"
            pred.write_text("\n".join(lines) + "\n", encoding="utf-8")
            o = evaluate(load_cases(gold_path), load_cases(pred)).overall
            rows.append((name, o, per_case, fallbacks))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    print(f"text+image cases of the grounded benchmark: {len(chosen)} ({', '.join(KINDS)})")
    print(f"{'reasoner':10s} {'NER F1':>7s} {'RE F1':>7s} {'trig F1':>7s} {'box acc':>7s} {'s/case':>8s} "
          f"{'fallbacks':>9s}")
    for name, o, per_case, fallbacks in rows:
        print(f"{name:10s} {f(o.ner.f1):>7s} {f(o.re.f1):>7s} {f(o.ee_trigger.f1):>7s} "
              f"{f(o.grounding.box.value):>7s} {per_case:8.1f} {fallbacks:9d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
