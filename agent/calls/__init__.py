"""Typed tool calls: one model per tool, its arguments and its result.

A reasoner emits calls as plain data (``{"tool": ..., "arguments": {...}}``), as an LLM
would; the validate node parses them into ``ToolCall``, a union discriminated by the
tool's versioned name. Results are typed too, so that every observation the reasoner
reads back has one shape per tool. Imports only the domain model.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from agent.domain import Segment


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextSpanArgs(_Args):
    """A slice ``[start, end)`` of a text input: the chunk a text tool works on."""

    input: str = "text"
    start: int = Field(ge=0)
    end: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "TextSpanArgs":
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class SpanRef(_Args):
    """An entity already found, as a text tool sees it: id, type and character span."""

    id: str
    type: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)


class RecognizeEntitiesArgs(TextSpanArgs):
    entity_types: list[str] = Field(min_length=1)
    nominals: Literal["uncovered", "all"] = Field(
        default="uncovered", description="Common nouns ('a cat') as mentions: only of types the NER model has no "
        "label for, or of all types (for text that describes a picture, where 'an astronaut' is a thing shown).")
    threshold: float | None = Field(default=None, ge=0, le=1, description="Override the typing threshold.")


class ExtractRelationsArgs(TextSpanArgs):
    relation_types: list[str] = Field(min_length=1)
    entities: list[SpanRef] = Field(min_length=2)
    threshold: float | None = Field(default=None, ge=0, le=1)


class DetectEventsArgs(TextSpanArgs):
    event_types: dict[str, list[str]] = Field(min_length=1)
    entities: list[SpanRef] = Field(default_factory=list)
    entity_types: list[str] = Field(default_factory=list, description="Types for arguments not yet an entity.")
    threshold: float | None = Field(default=None, ge=0, le=1)
    role_threshold: float | None = Field(default=None, ge=0, le=1, description="Override the least score of an "
                                         "argument for a role (a second look for arguments).")


# --------------------------------------------------------------------------- audio arguments

WHISPER_MODELS: tuple[str, ...] = ("tiny.en", "base")
"""Whisper models the transcriber knows: tiny.en ships by default, base when its packages are installed."""


class AudioWindowArgs(_Args):
    """An audio input, or the window ``[start_s, end_s)`` of it, in seconds from its start."""

    input: str = Field(description="Id of an audio input of this run.")
    start_s: float | None = Field(default=None, ge=0, description="Window start (default: the beginning).")
    end_s: float | None = Field(default=None, gt=0, description="Window end (default: the end).")

    @model_validator(mode="after")
    def _ordered(self) -> "AudioWindowArgs":
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s {self.end_s} must be after start_s {self.start_s}")
        return self


class TranscribeArgs(AudioWindowArgs):
    model: str = Field(default="tiny.en", description="Whisper model.",
                       json_schema_extra={"enum": list(WHISPER_MODELS)})
    hints: list[str] = Field(default_factory=list, max_length=64,
                             description="Words likely said (e.g. names found in the text), spelled as they should be.")


class SegmentSpeechArgs(AudioWindowArgs):
    max_s: float = Field(default=30.0, ge=2, le=600, description="Longest piece the splitter leaves.")
    threshold: float = Field(default=0.5, gt=0, lt=1, description="Speech probability that starts a segment.")


class DetectSoundsArgs(AudioWindowArgs):
    classes: list[str] | None = Field(
        default=None, min_length=1, description="AudioSet class names to keep (YAMNet's 521); default: all."
    )
    threshold: float = Field(default=0.5, ge=0, le=1, description="Least frame score of an event.")


class SegmentAudioArgs(AudioWindowArgs):
    target: str = Field(min_length=1, description="Words that are said, or an AudioSet sound class name.")
    kind: Literal["auto", "phrase", "sound"] = Field(
        default="auto", description="auto: a sound if target is an AudioSet class name, else a phrase."
    )
    model: str = Field(default="tiny.en", description="Whisper model for phrases.",
                       json_schema_extra={"enum": list(WHISPER_MODELS)})
    threshold: float = Field(default=0.5, ge=0, le=1, description="Least frame score of a sound.")
    fuzzy: bool = Field(default=True, description="Allow a small edit distance per word of a phrase.")


# --------------------------------------------------------------------------- results


class SpanCandidate(BaseModel):
    start: int
    end: int
    text: str
    type: str
    score: float = Field(ge=0, le=1)
    source: str = Field(description="Where the candidate came from: the model's label or 'noun_chunk'.")


class RecognizeEntitiesResult(BaseModel):
    entities: list[SpanCandidate] = Field(default_factory=list)
    sentences: list[tuple[int, int]] = Field(default_factory=list)


class RelationCandidate(BaseModel):
    type: str
    head: str
    tail: str
    score: float = Field(ge=0, le=1)
    evidence: str = Field(default="", description="The dependency path that supports it.")


class ExtractRelationsResult(BaseModel):
    relations: list[RelationCandidate] = Field(default_factory=list)


class ArgumentCandidate(BaseModel):
    role: str
    entity: str | None = None
    span: SpanCandidate | None = Field(default=None, description="An argument that is not yet an entity.")
    score: float = Field(ge=0, le=1)


class EventCandidate(BaseModel):
    type: str
    trigger: SpanCandidate
    score: float = Field(ge=0, le=1)
    arguments: list[ArgumentCandidate] = Field(default_factory=list)


class DetectEventsResult(BaseModel):
    events: list[EventCandidate] = Field(default_factory=list)


class TimeSpan(BaseModel):
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)


class WordTiming(BaseModel):
    text: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    probability: float = Field(ge=0, le=1)


class TranscriptSegment(BaseModel):
    text: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    probability: float = Field(ge=0, le=1, description="Mean probability of its words.")


class TranscribeResult(BaseModel):
    input: str
    model: str
    segments: list[TranscriptSegment] = Field(default_factory=list)
    words: list[WordTiming] = Field(default_factory=list, description="Every word once, in time order.")
    pieces: list[TimeSpan] = Field(default_factory=list, description="The speech pieces transcribed one by one.")


class SpeechSegment(BaseModel):
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    score: float = Field(ge=0, le=1, description="Mean speech probability.")


class SpeechCut(BaseModel):
    time_s: float = Field(ge=0)
    pause_s: float = Field(ge=0, description="Length of the pause cut in; 0 for a cut inside speech.")


class SegmentSpeechResult(BaseModel):
    input: str
    segments: list[SpeechSegment] = Field(default_factory=list)
    pieces: list[TimeSpan] = Field(default_factory=list)
    cuts: list[SpeechCut] = Field(default_factory=list)


class SoundEvent(BaseModel):
    label: str
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    score: float = Field(ge=0, le=1, description="Best frame score of the event.")


class DetectSoundsResult(BaseModel):
    input: str
    events: list[SoundEvent] = Field(default_factory=list)


class SegmentAudioResult(BaseModel):
    input: str
    target: str
    kind: Literal["phrase", "sound"]
    segments: list[Segment] = Field(default_factory=list, description="Where the target occurs, best first in time.")


# --------------------------------------------------------------------------- calls


class RecognizeEntities(_Args):
    """Find entity mentions of the schema's types in a chunk of text."""

    tool: Literal["recognize_entities.v1"] = "recognize_entities.v1"
    arguments: RecognizeEntitiesArgs


class ExtractRelations(_Args):
    """Find relations of the schema's types between entities of a chunk of text."""

    tool: Literal["extract_relations.v1"] = "extract_relations.v1"
    arguments: ExtractRelationsArgs


class DetectEvents(_Args):
    """Find event triggers of the schema's types and their arguments in a chunk of text."""

    tool: Literal["detect_events.v1"] = "detect_events.v1"
    arguments: DetectEventsArgs


class Transcribe(_Args):
    """Transcribe speech of an audio input (Whisper), with word times in seconds; long audio goes in pieces."""

    tool: Literal["transcribe.v1"] = "transcribe.v1"
    arguments: TranscribeArgs


class SegmentSpeech(_Args):
    """Find speech in an audio input (voice activity) and cut long speech into pieces at its longest pauses."""

    tool: Literal["segment_speech.v1"] = "segment_speech.v1"
    arguments: SegmentSpeechArgs


class DetectSounds(_Args):
    """Find sound events (AudioSet classes: Speech, Music, Dog, ...) with their time spans in an audio input."""

    tool: Literal["detect_sounds.v1"] = "detect_sounds.v1"
    arguments: DetectSoundsArgs


class SegmentAudio(_Args):
    """Find the time segments where a phrase is said or a sound class is heard in an audio input."""

    tool: Literal["segment_audio.v1"] = "segment_audio.v1"
    arguments: SegmentAudioArgs


# image calls live in their own modules (they import ``_Args`` from here)
from agent.calls.detect import Detect, DetectResult  # noqa: E402
from agent.calls.read_text import ReadText, ReadTextResult  # noqa: E402
from agent.calls.segment_image import SegmentImage, SegmentImageResult  # noqa: E402
from agent.calls.link_regions import LinkRegions, LinkRegionsResult  # noqa: E402
from agent.calls.propose_regions import ProposeRegions, ProposeRegionsResult  # noqa: E402
from agent.calls.track_video import TrackVideo, TrackVideoResult  # noqa: E402
from agent.calls.read_video_text import ReadVideoText, ReadVideoTextResult  # noqa: E402
from agent.calls.find_video_things import FindVideoThings, FindVideoThingsResult  # noqa: E402

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
