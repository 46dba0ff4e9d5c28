"""Adding a tool is its module in its modality's folder and one line in the tool list.

A copy of ``tools/`` gets a new text tool, ``find_quotes.v1`` (the quoted passages of a
chunk), as one new file and one line in ``TOOLS``; in that tree, with nothing else
changed, the registry, the call union the validate node parses, the catalogue an LLM
reasoner reads, REAMO meta-responses and the agent's loop all know it."""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.source_tree import ROOT, source_tree

QUOTES = '''"""find_quotes.v1: the passages of a chunk of text that stand in double quotes."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from muie.calls import Args, CallKey
from muie.spans import TextSpanArgs
from muie.tools.base import Tool, ToolContext


class FindQuotesArgs(TextSpanArgs):
    pass


class Quote(BaseModel):
    start: int
    end: int
    text: str


class FindQuotesResult(BaseModel):
    input: str
    quotes: list[Quote]


class FindQuotes(Args):
    """The passages of a chunk of text that stand in double quotes, as character spans."""

    tool: Literal["find_quotes.v1"] = "find_quotes.v1"
    arguments: FindQuotesArgs


class FindQuotesTool(Tool[FindQuotesArgs, FindQuotesResult]):
    name = "find_quotes.v1"
    call_model = FindQuotes
    result_model = FindQuotesResult
    modality = "text"

    def key(self, args: FindQuotesArgs) -> CallKey:
        return CallKey(tool=self.name, input=args.input, span=(args.start, args.end))

    def run_batch(self, items: list[tuple[FindQuotesArgs, ToolContext]]) -> list[FindQuotesResult]:
        out = []
        for args, ctx in items:
            chunk = ctx.chunk(args.input, args.start, args.end)
            quotes = [Quote(start=args.start + m.start(1), end=args.start + m.end(1), text=m.group(1))
                      for m in re.finditer(r'"([^"]+)"', chunk)]
            out.append(FindQuotesResult(input=args.input, quotes=quotes))
        return out
'''

PROBE = '''
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
import muie.tools
from muie.tools import REGISTRY, TOOL_CALL, TOOLS
from muie.reasoner.llm_prompt import catalogue, text_tools
from muie.reasoner.meta_response import parse as parse_meta_response
from muie.reasoner.base import Decision
from muie.agent.api import Agent, make_request
from muie.settings import Settings
from tests.support.scripted import ScriptedReasoner

text = 'She said "not today" and left.'
call = {"tool": "find_quotes.v1", "arguments": {"input": "text", "start": 0, "end": len(text)}}
parsed = TOOL_CALL.validate_python(call)
meta = parse_meta_response(
    '<Module>find_quotes</Module><Instruction>{"input": "text", "start": 0, "end": 30}</Instruction>')
script = ScriptedReasoner([Decision(calls=[call]), Decision(done=True)])
result = Agent(script, Settings(verify=False)).run(make_request(text=text))
acts = [s for s in result.trace if s.node == "act"]
print(json.dumps({
    "from": muie.tools.__file__,
    "registered": "find_quotes.v1" in REGISTRY,
    "parsed": type(parsed).__name__,
    "offered": "find_quotes.v1" in text_tools(),
    "catalogue": [line for line in catalogue(text_tools()) if line.startswith("find_quotes.v1")],
    "meta": [c.tool for c in meta.calls],
    "ran": [s.summary for s in acts],
    "history": [str(k) for k in script.views[-1].history],
}))
'''


def _changed(a: Path, b: Path) -> list[str]:
    """Files that differ between two folders (added, removed or changed), relative to them."""
    out: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        out.extend(prefix + n for n in cmp.left_only + cmp.right_only + cmp.diff_files if n != "__pycache__")
        for name, sub in cmp.subdirs.items():
            if name != "__pycache__":
                walk(sub, prefix + name + "/")

    walk(filecmp.dircmp(a, b), "")
    return sorted(out)


def test_a_new_tool_is_its_module_and_one_line(tmp_path):
    tools = tmp_path / "tools"
    shutil.copytree(ROOT / "tools", tools, ignore=shutil.ignore_patterns("__pycache__"))
    (tools / "text" / "find_quotes.py").write_text(QUOTES)
    init = tools / "__init__.py"
    listed = init.read_text()
    last = "    TrackVideoTool, ReadVideoTextTool, FindVideoThingsTool,\n"
    assert last in listed
    listed = listed.replace(last, last + "    FindQuotesTool,\n")
    listed = listed.replace("from muie.tools.video.track_video import TrackVideoTool\n",
                            "from muie.tools.video.track_video import TrackVideoTool\n"
                            "from muie.tools.text.find_quotes import FindQuotesTool\n")
    init.write_text(listed)
    assert _changed(ROOT / "tools", tools) == ["__init__.py", "text/find_quotes.py"]

    tree = source_tree(tmp_path / "src", replace={"tools": tools})
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tree), str(ROOT)], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["from"] == str(tree / "muie" / "tools" / "__init__.py")
    assert seen["registered"] and seen["parsed"] == "FindQuotes" and seen["offered"]
    assert seen["catalogue"] and "double quotes" in seen["catalogue"][0]
    assert seen["meta"] == ["find_quotes.v1"]
    assert any(s.startswith("find_quotes.v1 x1") for s in seen["ran"]), seen["ran"]
    assert seen["history"] == ["find_quotes.v1@text:0:30"]
