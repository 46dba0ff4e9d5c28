"""The tools the agent calls: small typed callables in a registry keyed by versioned name.

Importing this package loads no model; each tool loads what it needs on first use.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import BaseModel, Field, TypeAdapter



from muie.tools.base import Tool, ToolContext
from muie.tools.image.detect import DetectTool
from muie.tools.text.recognize_entities import RecognizeEntitiesTool
from muie.tools.video.find_video_things import FindVideoThingsTool
from muie.tools.text.detect_events import DetectEventsTool
from muie.tools.image.link_regions import LinkRegionsTool
from muie.tools.image.propose_regions import ProposeRegionsTool
from muie.tools.image.read_text import ReadTextTool
from muie.tools.video.read_video_text import ReadVideoTextTool
from muie.tools.text.extract_relations import ExtractRelationsTool
from muie.tools.audio.segment_audio import SegmentAudioTool
from muie.tools.image.segment_image import SegmentImageTool
from muie.tools.audio.detect_sounds import DetectSoundsTool
from muie.tools.audio.segment_speech import SegmentSpeechTool
from muie.tools.video.track_video import TrackVideoTool
from muie.tools.audio.transcribe import TranscribeTool


from muie.tools.audio.detect_sounds import DetectSounds, DetectSoundsResult
from muie.tools.audio.segment_audio import SegmentAudio, SegmentAudioResult
from muie.tools.audio.segment_speech import SegmentSpeech, SegmentSpeechResult
from muie.tools.audio.transcribe import Transcribe, TranscribeResult
from muie.tools.image.detect import Detect, DetectResult
from muie.tools.image.link_regions import LinkRegions, LinkRegionsResult
from muie.tools.image.propose_regions import ProposeRegions, ProposeRegionsResult
from muie.tools.image.read_text import ReadText, ReadTextResult
from muie.tools.image.segment_image import SegmentImage, SegmentImageResult
from muie.tools.text.detect_events import DetectEvents, DetectEventsResult
from muie.tools.text.extract_relations import ExtractRelations, ExtractRelationsResult
from muie.tools.text.recognize_entities import RecognizeEntities, RecognizeEntitiesResult
from muie.tools.video.find_video_things import FindVideoThings, FindVideoThingsResult
from muie.tools.video.read_video_text import ReadVideoText, ReadVideoTextResult
from muie.tools.video.track_video import TrackVideo, TrackVideoResult

CALL_MODELS = (RecognizeEntities, ExtractRelations, DetectEvents, Transcribe, SegmentSpeech, DetectSounds,
               SegmentAudio, ReadText, Detect, SegmentImage, ProposeRegions, LinkRegions, TrackVideo,
               ReadVideoText, FindVideoThings)
ToolCall = Annotated[
    Union[RecognizeEntities, ExtractRelations, DetectEvents, Transcribe, SegmentSpeech, DetectSounds, SegmentAudio,
          ReadText, Detect, SegmentImage, ProposeRegions, LinkRegions, TrackVideo,
          ReadVideoText, FindVideoThings],
    Field(discriminator="tool"),
]
ToolResult = Union[
    RecognizeEntitiesResult, ExtractRelationsResult, DetectEventsResult,
    TranscribeResult, SegmentSpeechResult, DetectSoundsResult, SegmentAudioResult,
    ReadTextResult, DetectResult, SegmentImageResult, ProposeRegionsResult, LinkRegionsResult, TrackVideoResult,
    ReadVideoTextResult, FindVideoThingsResult,
]

TOOL_CALL = TypeAdapter(ToolCall)
TOOL_NAMES: tuple[str, ...] = tuple(m.model_fields["tool"].default for m in CALL_MODELS)


class Observation(BaseModel):
    """A tool call the agent ran, and what came back (or the error it raised)."""

    call_id: int
    call: ToolCall
    result: ToolResult | None = None
    error: str | None = None
    seconds: float = 0.0


REGISTRY: dict[str, Tool] = {t.name: t for t in (
    RecognizeEntitiesTool(), ExtractRelationsTool(), DetectEventsTool(),
    TranscribeTool(), SegmentSpeechTool(), DetectSoundsTool(), SegmentAudioTool(),
    ReadTextTool(), DetectTool(), SegmentImageTool(), ProposeRegionsTool(), LinkRegionsTool(),
    TrackVideoTool(), ReadVideoTextTool(), FindVideoThingsTool(),
)}

__all__ = ["REGISTRY", "Tool", "ToolContext"]
