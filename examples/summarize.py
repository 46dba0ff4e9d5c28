"""Print a result JSON as a person reads it: entities, relations, events."""

import json
import sys


def main(path: str) -> None:
    r = json.load(open(path, encoding="utf-8"))
    names = {e["id"]: e["text"] for e in r["entities"]}
    print(f"{len(r['entities'])} entities, {len(r['relations'])} relations, {len(r['events'])} events")
    for e in r["entities"]:
        spans = ", ".join(f"[{m['start']}:{m['end']}]" for m in e["mentions"])
        print(f"  {e['id']:4s} {e['type']:14s} {e['text']!r} at {spans}")
    for x in r["relations"]:
        print(f"  {x['id']:4s} {names[x['head']]} --{x['type']}--> {names[x['tail']]} ({x['score']:.2f})")
    for v in r["events"]:
        args = ", ".join(f"{a['role']}={names[a['entity']]}" for a in v["arguments"])
        print(f"  {v['id']:4s} {v['type']} {v['trigger']['text']!r}: {args}")


if __name__ == "__main__":
    main(sys.argv[1])
