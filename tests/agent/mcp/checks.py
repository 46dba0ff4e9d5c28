"""What ``muie mcp`` must show over any transport, each check a function of a live session:
the tools listed with their schemas, ``extract`` on the example caption, photo and recording
giving the contract's result with a region and a segment (and progress on the way), ``ask``
giving a cited answer, bad input and paths outside the roots as tool errors after which the
server keeps answering, and the kept runs with their pictures."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path
from typing import Any

from mcp import ClientSession
from PIL import Image

from muie.agent.ask.answer import Answer
from muie.domain import Region, Result, Segment
from tests.support.mcp_session import LiveSession, text_of
from tests.support.paths import MEDIA

SCHEMA = json.loads((MEDIA / "schema.json").read_text())
CASE = {"text_path": "caption.txt", "images": ["photo.png"], "audio": ["speech.wav"], "schema": SCHEMA}


def workspace(folder: Path) -> Path:
    """The server's one root: the example caption, photo and recording, a corrupt image, and a
    link that leads out of it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("caption.txt", "photo.png", "speech.wav"):
        shutil.copy(MEDIA / name, folder / name)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not a picture " * 50)
    (folder / "escape.png").symlink_to(MEDIA / "photo.png")
    return folder


def check_tools(live: LiveSession) -> None:
    tools = {t.name: t for t in live.run(lambda s: s.list_tools()).tools}
    assert set(tools) == {"extract", "ask", "runs"}
    for t in tools.values():
        assert t.description and len(t.description) > 100, t.name
        assert t.outputSchema is not None, t.name
    ex = tools["extract"].inputSchema["properties"]
    assert {"text", "text_path", "images", "audio", "video", "media", "schema", "tasks"} <= set(ex)
    schema = next(s for s in ex["schema"]["anyOf"] if s.get("type") == "object")
    assert schema["title"] == "Schema"
    assert {"entity_types", "relation_types", "event_types"} <= set(schema["properties"])
    assert tools["extract"].outputSchema["title"] == "Result"
    assert tools["ask"].outputSchema["title"] == "Answer" and "question" in tools["ask"].inputSchema["required"]


def check_extract(live: LiveSession) -> str:
    """The caption, photo and recording extracted; returns the kept run's id."""
    progress: list[tuple[float, str | None]] = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        progress.append((p, message))

    r = live.run(lambda s: s.call_tool("extract", CASE, progress_callback=on_progress))
    assert not r.isError, text_of(r)
    result = Result.model_validate(r.structuredContent)
    text = (MEDIA / "caption.txt").read_text()
    assert result.violations(text) == []
    inputs = {i.id: i for i in result.inputs}
    assert set(inputs) == {"text", "image0", "audio0"} and inputs["image0"].path.endswith("photo.png")
    regions = [(e, g) for e in result.entities for g in e.groundings if isinstance(g, Region) and g.input == "image0"]
    assert regions, "a thing in the photo is grounded to a region"
    x0, y0, x1, y1 = regions[0][1].bbox
    assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 480 and regions[0][1].mask is not None
    assert any(e.text == "coffee cup" for e, _ in regions), [e.text for e, _ in regions]
    segments = [(e, g) for e in result.entities for g in e.groundings if isinstance(g, Segment) and g.input == "audio0"]
    assert segments, "a name said in the recording is grounded to a time segment"
    assert all(0 <= g.start_s < g.end_s <= inputs["audio0"].duration_s + 0.05 for _, g in segments)
    assert any(e.text == "Eileen Collins" for e, _ in segments), [e.text for e, _ in segments]
    summary = text_of(r)
    assert "coffee cup" in summary and "image0 box [" in summary and "audio0 " in summary
    assert len(progress) >= 3 and [p for p, _ in progress] == sorted(p for p, _ in progress)
    assert any(m and m.startswith("act:") for _, m in progress), progress
    run_id = (r.meta or {}).get("muie/run_id")
    assert run_id and run_id in summary
    return str(run_id)


def check_ask(live: LiveSession, run_id: str) -> None:
    r = live.run(lambda s: s.call_tool("ask", {"question": "When is NASA mentioned?", **CASE}))
    assert not r.isError, text_of(r)
    a = Answer.model_validate(r.structuredContent)
    assert a.source == "memory" and a.run_id == run_id, "answered from the kept extraction"
    said = [c for c in a.citations if isinstance(c.grounding, Segment) and c.grounding.input == "audio0"]
    assert said and said[0].what == "NASA" and 1.5 < said[0].grounding.start_s < said[0].grounding.end_s < 3.5
    assert "NASA" in a.answer and "NASA" in text_of(r)
    follow = live.run(lambda s: s.call_tool("ask", {"question": "Where is the coffee cup?",
                                                    "thread_id": a.thread_id}))
    assert not follow.isError, text_of(follow)
    b = Answer.model_validate(follow.structuredContent)
    boxes = [c.grounding for c in b.citations if isinstance(c.grounding, Region)]
    assert b.thread_id == a.thread_id and boxes and boxes[0].input == "image0"
    by_run = live.run(lambda s: s.call_tool("ask", {"question": "Who is mentioned?", "run_id": run_id[:10]}))
    assert not by_run.isError, text_of(by_run)
    assert Answer.model_validate(by_run.structuredContent).citations


def _error(live: LiveSession, tool: str, args: dict[str, Any]) -> str:
    r = live.run(lambda s: s.call_tool(tool, args))
    assert r.isError, f"{tool}({args}) should be a tool error, got {text_of(r)[:300]}"
    assert r.structuredContent is None
    return text_of(r)


def _still_answering(live: LiveSession) -> None:
    async def both(s: ClientSession) -> tuple[Any, Any]:
        return await s.list_tools(), await s.call_tool("runs", {"limit": 1})

    tools, runs = live.run(both)
    assert len(tools.tools) == 3 and not runs.isError


def check_bad_input(live: LiveSession) -> None:
    missing = _error(live, "extract", {"text": "A cup.", "images": ["nowhere.png"]})
    assert "nowhere.png" in missing and "no such file" in missing
    _still_answering(live)
    corrupt = _error(live, "extract", {"images": ["broken.png"], "audio": ["speech.wav"]})
    assert "images[0] broken.png: corrupt" in corrupt, corrupt  # named as given, not by the server's path
    _still_answering(live)
    malformed = _error(live, "extract", {"text": "A cup.", "schema": {"entity_types": "person"}})
    assert "schema" in malformed and "entity_types" in malformed and "list" in malformed
    not_a_picture = base64.b64encode(b"GIF89a, and then nothing").decode()
    inline = _error(live, "extract", {"media": [{"name": "photo.png", "data": not_a_picture}]})
    assert "media[0] photo.png" in inline
    misspelled = _error(live, "extract", {"text": "A cup.", "image": ["photo.png"]})
    assert "image: not an argument of extract" in misspelled and "images" in misspelled
    unknown_run = _error(live, "runs", {"run_id": "0000dead"})
    assert "0000dead" in unknown_run and "no such run" in unknown_run
    _still_answering(live)


def check_roots(live: LiveSession) -> None:
    outside = str(MEDIA / "photo.png")
    for path in (outside, "../photo.png", "escape.png"):
        message = _error(live, "extract", {"text": "A cup.", "images": [path]})
        assert path in message and "outside the folders this server reads" in message, message
    message = _error(live, "ask", {"question": "What is said?", "audio": [str(MEDIA / "speech.wav")]})
    assert "outside the folders" in message
    message = _error(live, "extract", {"text_path": "/etc/hostname"})
    assert "/etc/hostname" in message and "outside" in message
    _still_answering(live)


def check_runs(live: LiveSession, run_id: str) -> None:
    listed = live.run(lambda s: s.call_tool("runs", {}))
    assert not listed.isError and run_id in [x["run"] for x in listed.structuredContent["runs"]]
    shown = live.run(lambda s: s.call_tool("runs", {"run_id": run_id[:8], "pictures": True}))
    assert not shown.isError, text_of(shown)
    assert Result.model_validate(shown.structuredContent["result"]).entities
    images = [c for c in shown.content if c.type == "image"]
    assert len(images) == 2 and all(c.mimeType == "image/png" for c in images)  # the photo, the recording
    assert Image.open(io.BytesIO(base64.b64decode(images[0].data))).size == (640, 480)
    uris = {str(r.uri) for r in live.run(lambda s: s.list_resources()).resources}
    picture = f"muie://runs/{run_id}/pictures/image0"
    assert {"muie://runs", f"muie://runs/{run_id}", picture} <= uris
    blob = live.run(lambda s: s.read_resource(picture)).contents[0]
    assert blob.mimeType == "image/png" and base64.b64decode(blob.blob)[:8] == b"\x89PNG\r\n\x1a\n"
    kept = live.run(lambda s: s.read_resource(f"muie://runs/{run_id}")).contents[0]
    assert Result.model_validate_json(kept.text).trace, "the resource keeps the agent's trace"
