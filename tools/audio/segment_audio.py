"""``segment_audio.v1``: the time segments where a target occurs in an audio input.

The audio decoder's role in REAMO-style grounding: given what was extracted (a phrase,
or a sound), say *when* it is in the audio.

- A phrase is matched against the transcript's words (``transcribe.v1``'s, cached, so a
  transcript made before is reused). Words are normalised (case, accents, punctuation,
  a possessive 's) and compared word by word: equal, or, with ``fuzzy``, within a small
  edit distance (none for words of up to 3 letters, else 40 % of the word's letters:
  "Mary Curie" finds "Marie Curie"). Words split or joined differently ("Mc Donald" /
  "McDonald") match when the phrase's letters do. The score is 1 - edits / letters.
- A sound class (an AudioSet name, any case) is ``detect_sounds.v1`` for that class.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from muie.calls import Args, CallKey
from muie.domain import Segment
from muie.errors import CallError
from muie.tools.audio.detect_sounds import class_index, detect, resolve_classes
from muie.tools.audio.stitch import edits, tokens
from muie.tools.audio.transcribe import WordTiming, check_model, transcript
from muie.tools.audio.windows import WHISPER_MODELS, AudioWindowArgs, window_key
from muie.tools.base import Tool, ToolContext
from muie.tools.media.audio_io import audio_input, check_window, window


class SegmentAudioArgs(AudioWindowArgs):
    target: str = Field(min_length=1, description="Words that are said, or an AudioSet sound class name.")
    kind: Literal["auto", "phrase", "sound"] = Field(
        default="auto", description="auto: a sound if target is an AudioSet class name, else a phrase."
    )
    model: str = Field(default="tiny.en", description="Whisper model for phrases.",
                       json_schema_extra={"enum": list(WHISPER_MODELS)})
    threshold: float = Field(default=0.5, ge=0, le=1, description="Least frame score of a sound.")
    fuzzy: bool = Field(default=True, description="Allow a small edit distance per word of a phrase.")
    entity: str | None = Field(default=None, description="The entity whose words these are: where they are said "
                               "becomes its grounding.")


class SegmentAudioResult(BaseModel):
    input: str
    target: str
    kind: Literal["phrase", "sound"]
    segments: list[Segment] = Field(default_factory=list, description="Where the target occurs, best first in time.")


class SegmentAudio(Args):
    """Find the time segments where a phrase is said or a sound class is heard in an audio input."""

    tool: Literal["segment_audio.v1"] = "segment_audio.v1"
    arguments: SegmentAudioArgs


def allowed(word: str, fuzzy: bool = True) -> int:
    return 0 if not fuzzy or len(word) <= 3 else int(0.4 * len(word))


def find_phrase(words: list[WordTiming], phrase: str, fuzzy: bool = True) -> list[tuple[float, float, float, str]]:
    """(start_s, end_s, score, words heard) of each place the phrase is said, in time order."""
    target = tokens(phrase)
    if not target:
        return []
    seq = [(tok, k) for k, w in enumerate(words) for tok in tokens(w.text)]
    letters = "".join(target)
    found: list[tuple[float, float, float, str]] = []
    for i in range(len(seq)):
        best = None
        for n in {len(target) - 1, len(target), len(target) + 1} - {0}:  # same words, or split/joined once
            if i + n > len(seq):
                continue
            heard = [t for t, _ in seq[i:i + n]]
            if n == len(target) and all(edits(h, p) <= allowed(p, fuzzy) for h, p in zip(heard, target)):
                cost = sum(edits(h, p) for h, p in zip(heard, target))
            elif edits("".join(heard), letters) <= allowed(letters, fuzzy) and heard[0][:1] == target[0][:1]:
                cost = edits("".join(heard), letters)
            else:
                continue
            score = 1.0 - cost / max(1, len(letters))
            if best is None or score > best[0]:
                best = (score, seq[i][1], seq[i + n - 1][1])
        if best is not None:
            score, a, b = best
            span = (words[a].start_s, words[b].end_s, round(score, 3), " ".join(w.text for w in words[a:b + 1]))
            if found and span[0] < found[-1][1]:  # overlaps the previous find: keep the better one
                if span[2] > found[-1][2]:
                    found[-1] = span
                continue
            found.append(span)
    return found


def _kind(args: SegmentAudioArgs) -> Literal["phrase", "sound"]:
    if args.kind != "auto":
        return args.kind
    return "sound" if class_index(args.target) is not None else "phrase"


class SegmentAudioTool(Tool[SegmentAudioArgs, SegmentAudioResult]):
    name = "segment_audio.v1"
    modality = "audio"
    call_model = SegmentAudio
    result_model = SegmentAudioResult

    def key(self, args: SegmentAudioArgs) -> CallKey:
        return window_key(self.name, args).model_copy(update={"entity": args.entity})

    def check(self, args: SegmentAudioArgs, ctx: ToolContext) -> None:
        check_window(audio_input(ctx, args.input), args.start_s, args.end_s, args.input)
        if _kind(args) == "sound":
            resolve_classes([args.target])
        else:
            check_model(args.model)
            if not tokens(args.target):
                raise CallError(f"target {args.target!r} has no words to look for")

    def run_batch(self, items: list[tuple[SegmentAudioArgs, ToolContext]]) -> list[SegmentAudioResult]:
        out = []
        for args, ctx in items:
            path, kind = ctx.media[args.input], _kind(args)
            if kind == "sound":
                x, t0 = window(path, args.start_s, args.end_s)
                spans = [(e.start_s, e.end_s, e.score, e.label)
                         for e in detect(x, resolve_classes([args.target]), args.threshold, t0)]
            else:
                words = transcript(path, args.input, args.model, args.start_s, args.end_s).words
                spans = find_phrase(words, args.target, args.fuzzy)
            segments = [Segment(input=args.input, start_s=a, end_s=max(a, b), score=s, label=label)
                        for a, b, s, label in spans]
            out.append(SegmentAudioResult(input=args.input, target=args.target, kind=kind, segments=segments))
        return out
