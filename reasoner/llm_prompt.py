"""What the LLM reasoner sends and what it asks back: the typed output models, the tool
catalogue generated from the call models, and the chat messages (``prompts/llm_extract.yaml``).

The output models are plain Pydantic: strings copied from the text, never offsets (the
reasoner finds them in the text). A tool call names a tool of the catalogue offered (an
enum in the schema the endpoint sees, checked again here: a name outside it goes back to
the LLM as a validation error); its arguments are checked by the graph like any call.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from jinja2 import Environment, StrictUndefined
from pydantic import BaseModel, Field, create_model

from muie.findings import Finding
from muie.prompts import load
from muie.request import Request
from muie.tools import CALL_MODELS, TOOLS

OFFERED = ("image", "audio")
"""Modalities whose tools the LLM is offered (it reads the text itself; videos are planned
the embedded way)."""


def text_tools() -> tuple[str, ...]:
    """The text tools (what the LLM does itself when it reads the text; offered in meta mode)."""
    return tuple(t.name for t in TOOLS if t.modality == "text")


class LLMEntity(BaseModel):
    text: str = Field(min_length=1, description="The entity's words, exactly as written in the text.")
    type: str = Field(description="One of the schema's entity types.")


class LLMRelation(BaseModel):
    head: str = Field(description="The head entity's words, as listed in entities.")
    type: str = Field(description="One of the schema's relation types.")
    tail: str = Field(description="The tail entity's words, as listed in entities.")


class LLMArgument(BaseModel):
    role: str = Field(description="One of the event type's roles.")
    text: str = Field(description="The argument's words, an entity listed in entities.")


class LLMEvent(BaseModel):
    type: str = Field(description="One of the schema's event types.")
    trigger: str = Field(min_length=1, description="The word(s) that state the event, exactly as written.")
    arguments: list[LLMArgument]


class Extraction(BaseModel):
    """The entities, relations and events the text states. Every list is required (empty
    when nothing fits): a grammar-constrained decoder then writes them all, in order,
    rather than skipping to the end."""

    entities: list[LLMEntity]
    relations: list[LLMRelation]
    events: list[LLMEvent]


@lru_cache(maxsize=64)
def plan_model(tools: tuple[str, ...]) -> type[Extraction]:
    """``Extraction`` plus tool calls naming one of ``tools`` (an enum the endpoint sees)."""
    call = create_model(
        "ToolCall",
        tool=(Literal[tools], Field(description="The tool's versioned name.")),  # type: ignore[valid-type]
        arguments=(dict[str, Any], Field(description="The tool's arguments.")),
    )
    calls = (list[call], Field(description="Tool calls to run next (often none)."))  # type: ignore[valid-type]
    return create_model("ExtractionAndCalls", __base__=Extraction, calls=calls)


def offered_tools(request: Request) -> tuple[str, ...]:
    modalities = {i.modality for i in request.inputs} & set(OFFERED)
    return tuple(t.name for t in TOOLS if t.modality in modalities)


def catalogue(tools: tuple[str, ...]) -> list[str]:
    """One line per tool, generated from its call model: ``name(arg: type = default, ...): what it does``."""
    models = {m.model_fields["tool"].default: m for m in CALL_MODELS}
    lines = []
    for name in tools:
        model = models[name]
        args = model.model_fields["arguments"].annotation
        sig = []
        for field, info in args.model_fields.items():  # type: ignore[union-attr]
            kind = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
            default = "" if info.is_required() else f" = {info.get_default(call_default_factory=True)!r}"
            sig.append(f"{field}: {kind}{default}")
        lines.append(f"{name}({', '.join(sig)}): {(model.__doc__ or '').strip()}")
    return lines


def transcripts(request: Request, words_per_line: int = 12) -> list[str]:
    """Each recording's words, a line per few words with its times."""
    out = []
    for d in request.derived:
        if d.kind != "speech":
            continue
        ws = [w for w in d.words if w.start_s is not None and w.end_s is not None]
        for k in range(0, len(ws), words_per_line):
            part = ws[k : k + words_per_line]
            words = d.text[part[0].start:part[-1].end]
            out.append(f"{d.source} [{part[0].start_s:.2f}-{part[-1].end_s:.2f} s] {words}")
    return out


def image_data_url(path: str, side: int) -> str:
    """The image, its longest side at most ``side`` pixels, as a PNG data URL."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((side, side))
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def audio_part(path: str) -> dict[str, Any]:
    """A recording as an ``input_audio`` content part (16 kHz mono WAV)."""
    import soundfile as sf

    from muie.tools.media.audio_io import SR, load

    buf = io.BytesIO()
    sf.write(buf, load(path), SR, format="WAV")
    return {"type": "input_audio", "input_audio": {"data": base64.b64encode(buf.getvalue()).decode("ascii"),
                                                   "format": "wav"}}


_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def messages(request: Request, source: str, text: str, *, tools: tuple[str, ...] = (),
             findings: Sequence[Finding] = (), call_errors: Sequence[str] = (), images: Sequence[str] = (),
             audio: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The chat messages of one LLM call: the system rules, then the case as the user's
    message (text, and the images and recordings as content parts when given)."""
    prompt = load("llm_extract.yaml")
    s = request.schema_
    media = [f"{i.id} ({i.modality})" for i in request.inputs if i.modality != "text"]
    user = _ENV.from_string(prompt["user"]).render(
        entity_types=s.entity_types, relation_types=s.relation_types, event_types=s.event_types,
        descriptions=s.descriptions, media=media, transcripts=transcripts(request), tools=catalogue(tools),
        critique=[f"{f.check} ({f.where}): {f.message}" for f in findings], call_errors=list(call_errors),
        source=source, text=text,
    ).strip()
    system = _ENV.from_string(prompt["system"]).render(tools=bool(tools)).strip()
    content: str | list[dict[str, Any]] = user
    if images or audio:
        content = [{"type": "text", "text": user}]
        content += [{"type": "image_url", "image_url": {"url": url}} for url in images]
        content += list(audio)
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]
