"""Build the event models' data from the public sets of ``training/sources_pairs.yaml`` (run
once; the output is committed, so ``make model`` needs nothing but the repository).

    python -m muie.training.collect_events FOLDER

- ``triggers.jsonl.gz`` / ``triggers-dev.jsonl.gz``: sentences with their triggers as
  spans typed by the event type's phrase (the entity model's row format), from GENEVA's
  training sentences and RAMS (dev and test documents; its types such as
  ``conflict.attack.airstrikemissilestrike`` read "airstrike missile strike attack");
  GENEVA's validation sentences choose.
- ``arguments.jsonl.gz`` / ``arguments-dev.jsonl.gz``: the pair model's rows, head the
  trigger, tail the argument, label "<role> in <event type>"; GENEVA marks every candidate
  phrase of a sentence (``mentions``), so the others are taught as no argument of that
  trigger (``heads``: the triggers).
- ``bench/data/ee-dev/*.jsonl``: GENEVA's validation sentences and WikiEvents' dev
  documents, cut into sentences, as contract results with their text.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from muie.tools.text.type_names import argument_phrase, event_phrase
from muie.training.collect_pairs import _case, write, write_cases

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 13
def geneva_train(folder: Path) -> list[str]:
    """GENEVA's training sentences: the union of its published subsets (``subsets/``: the
    ``lr``, ``fs``, ``zs`` and ``ctt`` files), each window once, none of val or test."""
    held = {json.loads(line)["wnd_id"] for f in ("data_val.json", "data_test.json")
            for line in (folder / f).read_text(encoding="utf-8").splitlines() if line.strip()}
    keep: dict[str, str] = {}
    for f in sorted((folder / "subsets").iterdir()):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip() and (wid := json.loads(line)["wnd_id"]) not in held:
                keep.setdefault(wid, line)
    return list(keep.values())


def geneva(lines: list[str], name: str = "GENEVA") -> tuple[list[dict], list[dict]]:
    """(trigger rows, argument rows) of GENEVA's JSON lines."""
    trig, args = [], []
    for line in lines:
        r = json.loads(line)
        tokens = r["tokens"]
        ments = {m["id"]: [m["start"], m["end"]] for m in r["entity_mentions"]}
        spans, pairs, heads = [], [], []
        for ev in r["event_mentions"]:
            t = [ev["trigger"]["start"], ev["trigger"]["end"]]
            spans.append([*t, event_phrase(ev["event_type"])])
            heads.append(t)
            for a in ev["arguments"]:
                if a["entity_id"] in ments:
                    pairs.append([*t, *ments[a["entity_id"]], argument_phrase(a["role"], ev["event_type"])])
        trig.append({"set": name, "tokens": tokens, "spans": spans})
        if heads:
            args.append({"set": name, "tokens": tokens, "pairs": pairs, "heads": heads,
                         "mentions": sorted(map(list, {tuple(m) for m in ments.values()})), "exhaustive": True})
    return trig, args


def rams(path: Path) -> tuple[list[dict], list[dict]]:
    """RAMS documents (up to 5 sentences, one trigger each) as one row each."""
    trig, args = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        tokens = [w for s in r["sentences"] for w in s]
        (ts, te, [[etype, _]]), = r["evt_triggers"]
        trig.append({"set": "RAMS", "tokens": tokens, "spans": [[ts, te + 1, event_phrase(etype)]]})
        pairs = [[ts, te + 1, a, b + 1, argument_phrase(role, etype)] for (_, _), (a, b), role in r["gold_evt_links"]]
        args.append({"set": "RAMS", "tokens": tokens, "pairs": pairs, "heads": [[ts, te + 1]],
                     "mentions": [[a, b + 1] for (_, _), (a, b), _ in r["gold_evt_links"]], "exhaustive": False})
    return trig, args


def geneva_cases(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        out.append(event_case(r["wnd_id"], r["tokens"], r["entity_mentions"], r["event_mentions"], 0))
    return out


def event_case(cid: str, tokens: list[str], mentions: list[dict], events: list[dict], offset: int) -> dict:
    """A contract result of one sentence: its argument entities, events, triggers and arguments."""
    used = {a["entity_id"] for ev in events for a in ev["arguments"]}
    ments = [m for m in mentions if m["id"] in used]
    index = {m["id"]: i for i, m in enumerate(ments)}
    case = _case(cid, tokens, [(m.get("entity_type", "argument"), [[m["start"] - offset, m["end"] - offset]])
                               for m in ments], [])
    words = case["text"].split(" ")
    starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words) + 1)]
    case["events"] = [{"id": f"E{k}", "type": ev["event_type"],
                       "trigger": {"text": " ".join(words[ev["trigger"]["start"] - offset:
                                                          ev["trigger"]["end"] - offset]),
                                   "mentions": [{"input": "text", "start": starts[ev["trigger"]["start"] - offset],
                                                 "end": starts[ev["trigger"]["end"] - offset] - 1}]},
                       "arguments": [{"role": a["role"], "entity": f"T{index[a['entity_id']]}"}
                                     for a in ev["arguments"] if a["entity_id"] in index]}
                      for k, ev in enumerate(events)]
    return case


def wikievents_cases(path: Path) -> list[dict]:
    """WikiEvents documents cut into sentences; an argument in another sentence than its trigger is left out."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        offset = 0
        for s, (words, _) in enumerate(r["sentences"]):
            n = len(words)
            lo, hi = offset, offset + n
            ments = [m for m in r["entity_mentions"] if lo <= m["start"] and m["end"] <= hi]
            ids = {m["id"] for m in ments}
            events = [{**ev, "arguments": [a for a in ev["arguments"] if a["entity_id"] in ids]}
                      for ev in r["event_mentions"] if lo <= ev["trigger"]["start"] and ev["trigger"]["end"] <= hi]
            out.append(event_case(f"{r['doc_id']}-s{s}", [w for w, _, _ in words], ments, events, offset))
            offset += n
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m muie.training.collect_events FOLDER", file=sys.stderr)
        return 2
    src = Path(args[0])
    trig, arg = geneva(geneva_train(src / "geneva"))
    for f in ("data_rams_dev.jsonlines", "data_rams_test.jsonlines"):
        t, a = rams(src / "rams" / f)
        trig, arg = trig + t, arg + a
    random.Random(SEED).shuffle(trig)
    random.Random(SEED).shuffle(arg)
    dev_trig, dev_arg = geneva((src / "geneva" / "data_val.json").read_text(encoding="utf-8").splitlines())
    for rows, name in ((trig, "triggers"), (dev_trig, "triggers-dev"), (arg, "arguments"), (dev_arg, "arguments-dev")):
        write(rows, DATA / f"{name}.jsonl.gz")
        print(f"{name}: {len(rows)} rows")
    bench = HERE.parent / "bench" / "data" / "ee-dev"
    write_cases(geneva_cases(src / "geneva" / "data_val.json"), bench / "geneva.jsonl")
    write_cases(wikievents_cases(src / "wikievents" / "data_wikievents_dev.jsonl"), bench / "wikievents.jsonl")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
