"""The tools the agent calls: small typed callables, listed once.

``TOOLS`` is the one list. The registry (versioned name -> tool, a dict lookup), the
discriminated union of calls the validate node parses, the union of results, the names
and each tool's call key all come from it: adding a tool is its module in its modality's
folder and one line here. Importing this package loads no model; each tool loads what it
needs on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BaseModel, Field, SerializeAsAny, TypeAdapter, ValidationError

from muie.calls import Call, CallKey
from muie.tools.audio.detect_sounds import DetectSoundsTool
from muie.tools.audio.segment_audio import SegmentAudioTool
from muie.tools.audio.segment_speech import SegmentSpeechTool
from muie.tools.audio.transcribe import TranscribeTool
from muie.tools.base import Tool, ToolContext
from muie.tools.image.detect import DetectTool
from muie.tools.image.link_regions import LinkRegionsTool
from muie.tools.image.propose_regions import ProposeRegionsTool
from muie.tools.image.read_text import ReadTextTool
from muie.tools.image.segment_image import SegmentImageTool
from muie.tools.text.detect_events import DetectEventsTool
from muie.tools.text.detect_events_v2 import DetectEventsV2Tool
from muie.tools.text.extract_relations import ExtractRelationsTool
from muie.tools.text.extract_relations_v2 import ExtractRelationsV2Tool
from muie.tools.text.recognize_entities import RecognizeEntitiesTool
from muie.tools.text.recognize_entities_v2 import RecognizeEntitiesV2Tool
from muie.tools.video.find_video_things import FindVideoThingsTool
from muie.tools.video.read_video_text import ReadVideoTextTool
from muie.tools.video.track_video import TrackVideoTool

TOOLS: tuple[type[Tool[Any, Any]], ...] = (
    RecognizeEntitiesTool, RecognizeEntitiesV2Tool, ExtractRelationsTool, ExtractRelationsV2Tool, DetectEventsTool,
    DetectEventsV2Tool,
    TranscribeTool, SegmentSpeechTool, DetectSoundsTool, SegmentAudioTool,
    ReadTextTool, DetectTool, SegmentImageTool, ProposeRegionsTool, LinkRegionsTool,
    TrackVideoTool, ReadVideoTextTool, FindVideoThingsTool,
)

REGISTRY: dict[str, Tool[Any, Any]] = {t.name: t() for t in TOOLS}
TOOL_NAMES: tuple[str, ...] = tuple(REGISTRY)
CALL_MODELS: tuple[type[BaseModel], ...] = tuple(t.call_model for t in TOOLS)

if TYPE_CHECKING:  # every call model is a Call, every result a model
    ToolCall = Call
    ToolResult = BaseModel
else:
    ToolCall = Annotated[Union[CALL_MODELS], Field(discriminator="tool")]  # noqa: UP007 (built from a tuple)
    ToolResult = Union[tuple(t.result_model for t in TOOLS)]  # noqa: UP007

TOOL_CALL: TypeAdapter[ToolCall] = TypeAdapter(ToolCall)


class Observation(BaseModel):
    """A tool call the agent ran, and what came back (or the error it raised)."""

    call_id: int
    call: SerializeAsAny[ToolCall]
    result: SerializeAsAny[ToolResult] | None = None
    error: str | None = None
    seconds: float = 0.0


def call_key(call: Call) -> CallKey:
    """The key of a validated call, as its tool computes it."""
    return REGISTRY[call.tool].key(call.arguments)


def key_of(call: dict[str, Any]) -> CallKey | None:
    """The key of a call given as plain data; None when it is not a valid call."""
    try:
        return call_key(TOOL_CALL.validate_python(call))
    except (ValidationError, KeyError, ValueError):
        return None


__all__ = ["CALL_MODELS", "REGISTRY", "TOOLS", "TOOL_CALL", "TOOL_NAMES", "Observation", "Tool", "ToolCall",
           "ToolContext", "ToolResult", "call_key", "key_of"]
