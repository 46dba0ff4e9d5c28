"""Types no NER set at hand annotates, one sentence each, beside person, organization and
location: which of them v2 finds, name and type exact. Prints each sentence's spans and the
count, and marks the types the model has since been trained on under their own name (the
types read off relations, ``training/collect_typed.py``): those are no longer unseen.

    .venv/bin/python bench/ner_unseen.py [WEIGHTS.onnx]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from muie.tools.models.entity_model import WEIGHTS, EntityModel  # noqa: E402
from muie.tools.models.sentence_onnx import encoder  # noqa: E402
from muie.tools.text.type_names import broad_types, type_phrase  # noqa: E402

CASES = [
    ("university", "She studied chemistry at Stanford University before moving to Boston .", "Stanford University"),
    ("planet", "The probe flew past Jupiter and then turned towards Saturn .", "Jupiter"),
    ("newspaper", "The story was first reported by The Guardian on Monday .", "The Guardian"),
    ("museum", "The painting now hangs in the Louvre in Paris .", "Louvre"),
    ("spacecraft", "Voyager 2 sent back images of Neptune in 1989 .", "Voyager 2"),
    ("political party", "He joined the Labour Party in 1983 and later led it .", "Labour Party"),
    ("award", "The novel won the Pulitzer Prize for Fiction in 1961 .", "Pulitzer Prize for Fiction"),
    ("currency", "Prices were quoted in euros rather than in Swiss francs .", "Swiss francs"),
    ("constellation", "The star lies in the constellation Orion , near Betelgeuse .", "Orion"),
    ("election", "Turnout fell sharply in the 2005 United Kingdom general election .",
     "2005 United Kingdom general election"),
    ("programming language", "The library is written in Python and ships bindings for Rust .", "Python"),
    ("band", "The concert ended with a set by Radiohead and The Cure .", "Radiohead"),
    ("writer", "The novel was written by Ernest Hemingway while he lived in Cuba .", "Ernest Hemingway"),
    ("book", "He spent ten years writing War and Peace before it was published .", "War and Peace"),
]


def main() -> int:
    from muie.training import train as training

    m, enc = EntityModel(Path(sys.argv[1]) if len(sys.argv) > 1 else WEIGHTS), encoder()
    rows = training.read_rows(training.DATA) + training.read_rows(training.TYPED)
    trained = set(training.type_phrases(rows).values())
    found, unseen = [], []
    for t, sent, gold in CASES:
        types = [t, "person", "organization", "location"]
        tv = enc.encode([type_phrase(x) for x in types])
        toks = sent.split()
        ps = m.predict([toks], tv, broad=broad_types(tv))[0]
        got = [(" ".join(toks[a:b]), types[k]) for a, b, k, _ in ps]
        ok = (gold, t) in got
        found.append(ok)
        if t not in trained:
            unseen.append(ok)
        print("OK " if ok else "-- ", t, "(trained)" if t in trained else "", got)
    print(sum(found), "/", len(found), f"found; of the {len(unseen)} types never trained on: {sum(unseen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
