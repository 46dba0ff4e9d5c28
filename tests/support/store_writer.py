"""A process that writes to the store without pause, for the test that kills it mid-write:
runs with many rows each (real results of the agent's types) and tool results, printing
the number of runs committed after each commit."""

from __future__ import annotations

import sys

from muie.agent.inputs import default_schema
from muie.domain import (
    Argument,
    AudioInput,
    Entity,
    Event,
    ImageInput,
    Region,
    Relation,
    Result,
    Segment,
    TextInput,
    Trigger,
)
from muie.memory.store import Store
from muie.memory.tables import ToolResult
from muie.request import Request
from muie.settings import Settings


def result(k: int, image: str, audio: str) -> Result:
    ents = [Entity(id=f"E{i}", text=f"Thing {k} {i}", type="person",
                   groundings=[Region(input="image0", bbox=[i, i, i + 10, i + 10], label="person"),
                               Segment(input="audio0", start_s=i * 0.1, end_s=i * 0.1 + 0.05)])
            for i in range(1, 201)]
    rels = [Relation(id=f"R{i}", type="work_for", head=f"E{i}", tail=f"E{i + 1}") for i in range(1, 100)]
    evs = [Event(id=f"V{i}", type="Meet", trigger=Trigger(text="met"),
                 arguments=[Argument(role="Entity", entity=f"E{i}")]) for i in range(1, 50)]
    return Result(inputs=[TextInput(), ImageInput(id="image0", path=image, width=640, height=480),
                          AudioInput(id="audio0", path=audio, duration_s=7.9)],
                  entities=ents, relations=rels, events=evs)


def main() -> None:
    data, image, audio = sys.argv[1:4]
    store = Store(Settings(data_dir=data))
    k = 0
    while True:
        k += 1
        res = result(k, image, audio)
        req = Request(text=f"run {k}", inputs=res.inputs[1:], schema=default_schema())
        store.record_run(req, res, "embedded", 0.1)
        with store.session() as s, s.begin():
            for i in range(50):
                s.merge(ToolResult(key=f"{k:08d}{i:056d}", tool="detect.v1", arguments="{}", model_version="x",
                                   result=res.model_dump_json()[:20000]))
        print(k, flush=True)


if __name__ == "__main__":
    main()
