"""Build the pair model's data from the public sets of ``training/sources_pairs.yaml`` (run
once; the output is committed, so ``make model`` needs nothing but the repository).

    python -m muie.training.collect_pairs FOLDER

FOLDER holds the files named there, as fetched from each repository at its commit:

- ``relations.jsonl.gz`` (trained on): FewRel 1.0 val_wiki and the Wiki80 splits at hand
  (80 Wikidata relations, one labelled pair a sentence), and Re-DocRED's dev documents cut
  into sentences: every pair of entity mentions in a sentence whose relation lists that
  sentence as evidence, and every other pair of the sentence's mentions as no relation.
- ``relations-dev.jsonl.gz`` (chooses the epoch and threshold): Re-DocRED's test
  documents, the same way, 200 of them.
- ``relation_phrases.json``: other names of each trained relation (Wikidata's aliases of
  the property, and its description), that training reads in place of the name at random,
  so that a relation is learned as a meaning, not as one string.
- ``bench/data/re-dev/*.jsonl`` (measured by ``bench/re_models.py``): the sentences of those
  200 test documents, and CrossRE's six dev splits, as contract results with their text.

Rows: ``{"set", "tokens", "pairs": [[head start, head end, tail start, tail end, label]],
"mentions": [[start, end]], "exhaustive": bool}``, word offsets, ends exclusive.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT, DEV = HERE / "data" / "relations.jsonl.gz", HERE / "data" / "relations-dev.jsonl.gz"
PHRASES = HERE / "data" / "relation_phrases.json"
MAX_PHRASES = 12  # other names of one relation kept
SEED = 13
DEV_DOCS = 200


def _clean(tokens: list[str], spans: list[list[int]]) -> tuple[list[str], list[list[int]]]:
    """Drop whitespace tokens, moving the spans' offsets with them."""
    keep = [i for i, t in enumerate(tokens) if t.strip()]
    new = {old: n for n, old in enumerate(keep)}
    new[len(tokens)] = len(keep)

    def at(i: int) -> int:
        while i not in new:
            i += 1
        return new[i]

    return [tokens[i] for i in keep], [[at(a), at(b)] for a, b in spans]


def _fewrel_rows(src: Path) -> list[tuple[list[str], list[int], list[int], str]]:
    """(words, head, tail, relation name) of FewRel's val_wiki, then Wiki80's splits at hand,
    then CFRL-FewRel's (lower-cased copies of FewRel sentences, read last so that a cased
    copy of a sentence wins)."""
    out = []
    names = json.loads((src / "fewrel" / "data_pid2name.json").read_text(encoding="utf-8"))
    for pid, items in json.loads((src / "fewrel" / "data_val_wiki.json").read_text(encoding="utf-8")).items():
        for r in items:
            h, t = r["h"][2][0], r["t"][2][0]
            out.append((r["tokens"], [h[0], h[-1] + 1], [t[0], t[-1] + 1], names[pid][0]))
    for split in ("dev", "train_0.1", "train_0.01"):
        path = src / "wiki80" / f"finetune_supervisedRE_data_wiki80_{split}.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out.append((r["token"], list(r["h"]["pos"]), list(r["t"]["pos"]), r["relation"]))
    cfrl = src / "cfrlfewrel"
    rel_names = (cfrl / "data_CFRLFewRel_relation_name.txt").read_text(encoding="utf-8").splitlines()
    for split in ("test_0", "train_0"):
        path = cfrl / f"data_CFRLFewRel_CFRLdata_10_100_10_5_{split}.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            rel, _, sentence, _, hpos, _, tpos, *_ = line.split("\t")
            h, t = [int(i) for i in hpos.split()], [int(i) for i in tpos.split()]
            out.append((sentence.split(" "), [h[0], h[-1] + 1], [t[0], t[-1] + 1], rel_names[int(rel) - 1]))
    return out


def fewrel(src: Path) -> list[dict]:
    """FewRel and Wiki80 (80 Wikidata relations), one labelled pair a sentence, each sentence once."""
    rows, seen = [], set()
    for raw, h0, t0, relation in _fewrel_rows(src):
        tokens, (h, t) = _clean(raw, [h0, t0])
        key = (" ".join(tokens).lower(), tuple(h), tuple(t))
        if key in seen or h[0] >= h[1] or t[0] >= t[1] or not (h[1] <= t[0] or t[1] <= h[0]):
            continue
        seen.add(key)
        rows.append({"set": "FewRel", "tokens": tokens, "pairs": [[*h, *t, relation]], "mentions": [h, t],
                     "exhaustive": False})
    return rows


def docred(path: Path, names: dict[str, str], docs: int | None = None) -> list[dict]:
    """Re-DocRED documents as sentences with every pair of their mentions."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for doc in data[:docs]:
        by_sent: dict[int, list[tuple[int, list[int]]]] = {}
        for e, mentions in enumerate(doc["vertexSet"]):
            for m in mentions:
                by_sent.setdefault(m["sent_id"], []).append((e, list(m["pos"])))
        for s, words in enumerate(doc["sents"]):
            ments = by_sent.get(s, [])
            if len(ments) < 2:
                continue
            pairs = []
            for lab in doc["labels"]:
                if lab.get("evidence") and s not in lab["evidence"]:
                    continue
                for eh, h in ments:
                    for et, t in ments:
                        if eh == lab["h"] and et == lab["t"] and (h[1] <= t[0] or t[1] <= h[0]):
                            pairs.append([*h, *t, names[lab["r"]]])
            spans = sorted({tuple(m) for _, m in ments})
            rows.append({"set": "Re-DocRED", "tokens": words, "pairs": pairs, "mentions": [list(m) for m in spans],
                         "exhaustive": True})
    return rows


def _case(cid: str, tokens: list[str], ents: list[tuple[str, list[list[int]]]],
          rels: list[tuple[int, int, str]]) -> dict:
    """A contract result with its text: ``ents`` (type, word spans), ``rels`` (entity indices)."""
    starts, text = [], ""
    for t in tokens:
        text += (" " if text else "")
        starts.append(len(text))
        text += t
    ends = [a + len(t) for a, t in zip(starts, tokens)]
    entities = []
    for i, (typ, sp) in enumerate(ents):  # the contract's mentions spell their entity's text: others are left out
        name = text[starts[sp[0][0]]:ends[sp[0][1] - 1]]
        entities.append({"id": f"T{i}", "type": typ, "text": name, "mentions": [
            {"input": "text", "start": starts[a], "end": ends[b - 1]} for a, b in sp
            if text[starts[a]:ends[b - 1]] == name]})
    relations = [{"id": f"R{k}", "type": r, "head": f"T{h}", "tail": f"T{t}"}
                 for k, (h, t, r) in enumerate(dict.fromkeys(rels))]
    return {"id": cid, "text": text, "inputs": [{"id": "text", "modality": "text"}], "entities": entities,
            "relations": relations}


def docred_cases(path: Path, names: dict[str, str], docs: int) -> list[dict]:
    out = []
    for d, doc in enumerate(json.loads(path.read_text(encoding="utf-8"))[:docs]):
        for s, words in enumerate(doc["sents"]):
            here = {e: [list(m["pos"]) for m in ms if m["sent_id"] == s] for e, ms in enumerate(doc["vertexSet"])}
            here = {e: sorted(map(list, {tuple(p) for p in sp})) for e, sp in here.items() if sp}
            index = {e: i for i, e in enumerate(here)}
            ents = [(doc["vertexSet"][e][0]["type"], sp) for e, sp in here.items()]
            rels = [(index[lab["h"]], index[lab["t"]], names[lab["r"]]) for lab in doc["labels"]
                    if lab["h"] in index and lab["t"] in index and (not lab.get("evidence") or s in lab["evidence"])]
            out.append(_case(f"d{d}s{s}", words, ents, rels))
    return out


def crossre_cases(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        index = {(a, b): i for i, (a, b, _) in enumerate(r["ner"])}
        ents = [(t, [[a, b + 1]]) for a, b, t in r["ner"]]
        rels = [(index[(x[0], x[1])], index[(x[2], x[3])], x[4]) for x in r["relations"]
                if (x[0], x[1]) in index and (x[2], x[3]) in index]
        out.append(_case(r["doc_key"], r["sentence"], ents, rels))
    return out


def write_cases(cases: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")


def other_names(src: Path, labels: set[str]) -> dict[str, list[str]]:
    """Wikidata's aliases and description of each label that names a property."""
    pid = {v[0]: k for k, v in json.loads((src / "fewrel" / "data_pid2name.json").read_text()).items()}
    pid |= {v: k for k, v in json.loads((src / "redocred" / "Linked-DocRED_rel_info.json").read_text()).items()}
    props = {p["id"]: p for p in json.loads((src / "fewrel" / "data_props.json").read_text(encoding="utf-8"))}
    out = {}
    for label in sorted(labels):
        p = props.get(pid.get(label, ""))
        if p is None:
            continue
        names = [a for a in p["aliases"] if len(a) > 2 and a.lower() != label.lower()][:MAX_PHRASES - 1]
        desc = p["description"].strip().rstrip(".")
        out[label] = names + ([desc] if desc else [])
    return out


def write(rows: list[dict], out: Path) -> None:
    tmp = out.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m muie.training.collect_pairs FOLDER", file=sys.stderr)
        return 2
    src = Path(args[0])
    names = json.loads((src / "redocred" / "Linked-DocRED_rel_info.json").read_text())
    train = fewrel(src)
    train += docred(src / "redocred" / "data_dev_revised.json", names)
    random.Random(SEED).shuffle(train)
    dev = docred(src / "redocred" / "data_test_revised.json", names, DEV_DOCS)
    write(train, OUT)
    write(dev, DEV)
    PHRASES.write_text(json.dumps(other_names(src, {p[4] for r in train for p in r["pairs"]}), indent=1,
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    bench = HERE.parent / "bench" / "data" / "re-dev"
    write_cases(docred_cases(src / "redocred" / "data_test_revised.json", names, DEV_DOCS), bench / "redocred.jsonl")
    for domain in ("ai", "literature", "music", "politics", "science"):  # news is CoNLL-2003: not here
        write_cases(crossre_cases(src / "crossre" / f"crossre_data_{domain}-dev.json"),
                    bench / f"crossre-{domain}.jsonl")
    print(f"{OUT.name}: {len(train)} sentences, {sum(len(r['pairs']) for r in train)} pairs; "
          f"{DEV.name}: {len(dev)} sentences, {sum(len(r['pairs']) for r in dev)} pairs")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
