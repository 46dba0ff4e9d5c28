"""What the audio tools speak: an audio input or a window of it, and spans of time."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from muie.calls import Args, CallKey

WHISPER_MODELS: tuple[str, ...] = ("tiny.en", "base")
"""Whisper models the transcriber knows: tiny.en ships by default, base when its packages are installed."""


class AudioWindowArgs(Args):
    """An audio input, or the window ``[start_s, end_s)`` of it, in seconds from its start."""

    input: str = Field(description="Id of an audio input of this run.")
    start_s: float | None = Field(default=None, ge=0, description="Window start (default: the beginning).")
    end_s: float | None = Field(default=None, gt=0, description="Window end (default: the end).")

    @model_validator(mode="after")
    def _ordered(self) -> AudioWindowArgs:
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(f"end_s {self.end_s} must be after start_s {self.start_s}")
        return self


class TimeSpan(BaseModel):
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)


def window_key(tool: str, args: AudioWindowArgs) -> CallKey:
    """The key of a call on an audio input (or a video's sound track): its window, when it has one."""
    whole = args.start_s is None and args.end_s is None
    return CallKey(tool=tool, input=args.input, span=None if whole else (args.start_s or 0.0, args.end_s or -1.0))
