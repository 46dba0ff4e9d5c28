"""Print a result JSON as a person reads it: entities with where they were found, relations, events."""

import json
import sys


def main(path: str) -> None:
    r = json.load(open(path, encoding="utf-8"))
    names = {e["id"]: e["text"] for e in r["entities"]}
    print(f"{len(r['entities'])} entities, {len(r['relations'])} relations, {len(r['events'])} events")
    for e in r["entities"]:
        where = [f"text[{m['start']}:{m['end']}]" for m in e["mentions"]]
        where += [_grounding(g) for g in e.get("groundings", [])]
        print(f"  {e['id']:4s} {e['type']:14s} {e['text']!r} at {', '.join(where)}")
    for x in r["relations"]:
        print(f"  {x['id']:4s} {names[x['head']]} --{x['type']}--> {names[x['tail']]} ({x['score']:.2f})")
    for v in r["events"]:
        args = ", ".join(f"{a['role']}={names[a['entity']]}" for a in v["arguments"])
        where = ", ".join(_grounding(g) for g in v["trigger"].get("groundings", []))
        print(f"  {v['id']:4s} {v['type']} {v['trigger']['text']!r}: {args}" + (f" (at {where})" if where else ""))


def _grounding(g: dict) -> str:
    if g["kind"] == "region":
        return f"{g['input']} box {[round(v) for v in g['bbox']]}" + (" with mask" if g.get("mask") else "")
    if g["kind"] == "segment":
        return f"{g['input']} {g['start_s']:.2f}-{g['end_s']:.2f} s"
    return f"{g['input']} track of {len(g['frames'])} frames"


if __name__ == "__main__":
    main(sys.argv[1])
