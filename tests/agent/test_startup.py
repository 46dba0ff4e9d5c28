"""What a process loads: a text-only extraction imports none of the media libraries; a
request the store answered before loads no model and no graph; a run whose every tool
call comes from the store (the verifier's looks included) loads no model. Each is
checked from ``sys.modules`` in a fresh interpreter, the way a user's command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

MEDIA = ROOT / "examples" / "media"
SENTENCE = "Apple chief executive Tim Cook met Angela Merkel in Berlin."

MEDIA_LIBRARIES = {
    "torch", "torchvision", "torchaudio", "cv2", "mediapipe", "tensorflow", "faster_whisper", "ctranslate2", "av",
    "soundfile", "PIL", "skimage", "sklearn", "timm", "segment_anything", "sam2", "imagebind",
    "rapidocr_onnxruntime", "pytesseract", "pycocotools", "sentence_transformers", "transformers",
}
"""Libraries of the image, audio and video models and of media files."""

MODELS = {"spacy", "onnxruntime", "mediapipe", "faster_whisper", "ctranslate2", "cv2", "torch"}
"""What loading any of muie's models imports."""

PROBE = """
import json, sys
from muie.agent.cli.main import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _extract(data: Path, *args: str, **env: str) -> tuple[dict, set[str]]:
    out = data / "result.json"
    proc = subprocess.run([sys.executable, "-c", PROBE, "extract", *args, "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MUIE_DATA_DIR": str(data), **env})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["rc"] == 0, proc.stderr
    return json.loads(out.read_text()), set(report["modules"])


def _found(result: dict) -> list[tuple[str, str]]:
    return sorted((e["text"], e["type"]) for e in result["entities"])


def test_a_text_extraction_imports_no_media_library_and_its_second_run_no_model(tmp_path):
    first, modules = _extract(tmp_path, "--text", SENTENCE)
    assert ("Tim Cook", "person") in _found(first) and ("Berlin", "location") in _found(first)
    assert modules & MEDIA_LIBRARIES == set(), sorted(modules & MEDIA_LIBRARIES)
    assert {"spacy", "onnxruntime", "langgraph"} <= modules  # the text models ran: the check above means something

    second, modules = _extract(tmp_path, "--text", SENTENCE)
    assert _found(second) == _found(first) and second["relations"] == first["relations"]
    assert second["trace"][-1]["node"] == "store" and second["trace"][-1]["run"]
    assert modules & (MODELS | MEDIA_LIBRARIES | {"langgraph"}) == set(), sorted(modules & (MODELS | {"langgraph"}))


def test_a_rerun_of_media_from_kept_tool_results_loads_no_model(tmp_path):
    args = ("--text-file", str(MEDIA / "caption.txt"), "--image", str(MEDIA / "photo.png"), "--audio",
            str(MEDIA / "speech.wav"), "--schema", str(MEDIA / "schema.json"))
    first, modules = _extract(tmp_path, *args)
    assert {"mediapipe", "faster_whisper", "onnxruntime", "spacy"} <= modules
    replay, modules = _extract(tmp_path, *args, MUIE_REUSE_RUNS="false")  # the graph runs, every call from the store
    acts = [s for s in replay["trace"] if s["node"] == "act" and s.get("tool")]
    assert acts and all(s.get("cached") for s in acts)
    assert modules & MODELS == set(), sorted(modules & MODELS)
    strip = lambda r: json.dumps({k: v for k, v in r.items() if k != "trace"}, sort_keys=True)  # noqa: E731
    assert strip(replay) == strip(first)


LIBRARY = """
import json, sys
import muie
r = muie.extract(text=sys.argv[1], store=sys.argv[2] == "store")
print(json.dumps({"entities": len(r.entities)}))
"""


def test_the_library_writes_no_store_unless_asked(tmp_path):
    """``muie.extract`` in a user's program keeps nothing: no store or folder of muie's in the
    user's home or working folder; asked (``store=True``), it keeps the run in the data folder."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUIE_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))

    def run(mode: str) -> dict:
        proc = subprocess.run([sys.executable, "-c", LIBRARY, SENTENCE, mode], cwd=work, capture_output=True,
                              text=True, timeout=600, env=env)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    assert run("plain")["entities"] >= 3
    # (onnxruntime itself keeps a device id under ~/.cache/Microsoft when it is imported)
    assert [p for p in home.rglob("*") if "muie" in p.name] == [] and list(work.rglob("*")) == []
    assert run("store")["entities"] >= 3
    assert [p.name for p in home.rglob("muie.db")] == ["muie.db"]
