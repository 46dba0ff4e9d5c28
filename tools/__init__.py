"""The tools the agent calls: small typed callables in a registry keyed by versioned name.

Importing this package loads no model; each tool loads what it needs on first use.
"""

from __future__ import annotations

from tools.base import Tool, ToolContext
from tools.detect import DetectTool
from tools.entities import RecognizeEntitiesTool
from tools.find_video_things import FindVideoThingsTool
from tools.events import DetectEventsTool
from tools.link_regions import LinkRegionsTool
from tools.propose_regions import ProposeRegionsTool
from tools.read_text import ReadTextTool
from tools.read_video_text import ReadVideoTextTool
from tools.relations import ExtractRelationsTool
from tools.segment_audio import SegmentAudioTool
from tools.segment_image import SegmentImageTool
from tools.sounds import DetectSoundsTool
from tools.speech_segments import SegmentSpeechTool
from tools.track_video import TrackVideoTool
from tools.transcribe import TranscribeTool

REGISTRY: dict[str, Tool] = {t.name: t for t in (
    RecognizeEntitiesTool(), ExtractRelationsTool(), DetectEventsTool(),
    TranscribeTool(), SegmentSpeechTool(), DetectSoundsTool(), SegmentAudioTool(),
    ReadTextTool(), DetectTool(), SegmentImageTool(), ProposeRegionsTool(), LinkRegionsTool(),
    TrackVideoTool(), ReadVideoTextTool(), FindVideoThingsTool(),
)}

__all__ = ["REGISTRY", "Tool", "ToolContext"]
