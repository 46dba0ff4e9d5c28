"""Configuration, in one place.

Every field has a default, a description, a key of the same name in a TOML file
(``MUIE_CONFIG``, else ``muie.toml`` in the working folder) and an environment variable
``MUIE_<NAME>`` that overrides both; secrets come from the environment only. No other
module reads the environment or holds a model path.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, ValidationInfo, field_validator

from muie.errors import InputError

ENV_PREFIX = "MUIE_"


class Settings(BaseModel):
    # the agent loop
    max_iterations: int = Field(8, ge=1, description="Reason/act/verify rounds before the agent stops.")
    max_call_retries: int = Field(2, ge=0, description="Times an invalid tool call goes back to the reasoner.")
    max_tool_calls: int = Field(4096, ge=1, description="Tool calls allowed in one run, all rounds together.")
    verify: bool = Field(True, description="Run the verifier: merge duplicates, drop unsupported groundings, solve "
                         "which region shows which entity, send what is missing back to the reasoner. "
                         "Off: for comparison.")
    # text handling
    chunk_chars: int = Field(2000, ge=200, description="Longest chunk of text a text tool sees at once.")
    # embedded models
    spacy_model: Literal["auto", "md", "sm"] = Field(
        "auto", description="spaCy English pipeline: md (better), sm, or auto (md when installed)."
    )
    embedding_model: str | None = Field(
        None, description="Sentence-embedding model folder; default: the MiniLM that ships in a package."
    )
    ner_model: Literal["learned", "heuristic"] = Field(
        "learned", description="Entity finder of the embedded reasoner: muie's own learned model "
        "(recognize_entities.v2) or the parser and type-similarity heuristic (recognize_entities.v1).")
    entity_model_threshold: float | None = Field(
        None, ge=0, le=1, description="Least probability of a learned entity mention; default: the one chosen "
        "when the model was trained.")

    relation_model: Literal["learned", "heuristic"] = Field(
        "learned", description="Relation finder of the embedded reasoner: muie's own learned pair model "
        "(extract_relations.v2) or words on the dependency path compared with the type names (extract_relations.v1).")
    event_model: Literal["learned", "heuristic"] = Field(
        "learned", description="Event finder of the embedded reasoner: muie's own learned trigger and argument "
        "models (detect_events.v2) or verbs and nouns compared with the type names and syntactic slots "
        "(detect_events.v1).")

    @property
    def entity_tool(self) -> str:
        """The versioned name of the entity finder ``ner_model`` selects."""
        return "recognize_entities.v2" if self.ner_model == "learned" else "recognize_entities.v1"

    @property
    def relation_tool(self) -> str:
        """The versioned name of the relation finder ``relation_model`` selects."""
        return "extract_relations.v2" if self.relation_model == "learned" else "extract_relations.v1"

    @property
    def event_tool(self) -> str:
        """The versioned name of the event finder ``event_model`` selects."""
        return "detect_events.v2" if self.event_model == "learned" else "detect_events.v1"

    # thresholds of the embedded reasoner, calibrated on the development sets
    entity_threshold: float = Field(0.30, ge=0, le=1, description="Least score of a typed entity mention.")
    noun_chunk_threshold: float = Field(0.45, ge=0, le=1, description="Least similarity of a noun chunk to a type.")
    nominal_threshold: float = Field(
        0.5, ge=0, le=1, description="Least similarity of a common noun ('a cat') to a type the NER model lacks."
    )
    pictured_nominal_threshold: float = Field(
        0.36, ge=0, le=1, description="Least similarity of a common noun to a type in text that describes a picture."
    )
    relation_threshold: float = Field(0.55, ge=0, le=1, description="Least score of a relation.")
    event_threshold: float = Field(0.55, ge=0, le=1, description="Least similarity of a trigger to an event type.")
    argument_threshold: float = Field(
        0.30, ge=0, le=1, description="Least similarity of a noun phrase in an event's slot to an entity type."
    )
    role_threshold: float = Field(0.25, ge=0, le=1, description="Least score of an argument for a role.")
    # audio
    whisper_model: Literal["tiny.en", "base"] = Field(
        "tiny.en", description="Whisper model for speech: tiny.en (ships by default) or base (better, slower)."
    )
    sound_threshold: float = Field(
        0.5, ge=0, le=1, description="Least YAMNet score of a sound taken as evidence of an event (e.g. a gunshot)."
    )
    visual_event_threshold: float = Field(
        0.6, ge=0, le=1, description="Least score of a thing seen taken as evidence of an event (e.g. a rifle)."
    )
    # embedded image segmenter (segment_image.v1)
    salient_model: Literal["small", "medium"] = Field(
        "medium", description="ISNet model of the salient-object masks: medium (16-bit weights; faster on CPU "
        "than small, whose 8-bit convolutions are slow there) or small."
    )
    region_min_score: float = Field(
        0.35, ge=0, le=1, description="Least score of an image region found by words; weaker matches give no region."
    )
    # full image models: real weights come only from checkpoint files named here
    sam_checkpoint: str | None = Field(
        None, description="SAM checkpoint file (a state dict, e.g. sam_vit_h_4b8939.pth)."
    )
    sam_model_type: Literal["vit_h", "vit_l", "vit_b", "tiny"] = Field(
        "vit_h", description="SAM architecture of the checkpoint; tiny is a small SAM of the same design, for tests."
    )
    imagebind_checkpoint: str | None = Field(None, description="ImageBind checkpoint file (imagebind_huge.pth).")
    imagebind_model: Literal["huge", "tiny"] = Field(
        "huge", description="ImageBind architecture of the checkpoint; tiny is a small one of its design, for tests."
    )
    image_model_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the full image models run: auto is CUDA when there is a GPU, else the CPU."
    )
    image_segmenter: Literal["embedded", "sam"] = Field(
        "embedded", description="Image segmenter: the embedded tools, or SAM (needs MUIE_SAM_CHECKPOINT)."
    )
    region_scorer: Literal["embedded", "imagebind"] = Field(
        "embedded", description="Region-text scorer: embedded tools, or ImageBind (needs MUIE_IMAGEBIND_CHECKPOINT)."
    )
    # video
    video_sample_fps: float = Field(
        12.0, gt=0, description="Frames a second a video is looked at (a video with fewer is looked at whole)."
    )
    video_track_side: int = Field(
        320, ge=64, description="Longest side, in pixels, of the frames the tracker works on (boxes come back "
        "in the video's pixels)."
    )
    video_keyframe_s: float = Field(
        0.5, gt=0, description="Seconds between keyframes, where a track is checked against the thing's looks."
    )
    video_detect_s: float = Field(
        2.0, gt=0, description="Seconds between detections by words while a target is not found yet (doubling "
        "after each miss, up to 16 times as long)."
    )
    video_cut_threshold: float = Field(
        0.5, gt=0, le=1, description="Hue-saturation histogram distance (Bhattacharyya) between frames that is a cut."
    )
    video_ocr_frames: int = Field(
        3, ge=0, description="Keyframes of a video read for words (OCR), spread over its length."
    )
    sam2_checkpoint: str | None = Field(None, description="SAM 2 checkpoint file (e.g. sam2.1_hiera_tiny.pt).")
    sam2_model: Literal["hiera_t", "hiera_s", "hiera_b+", "hiera_l", "tiny"] = Field(
        "hiera_t", description="SAM 2.1 architecture of the checkpoint; tiny is a small one of its design, for tests."
    )
    video_tracker: Literal["csrt", "sam2"] = Field(
        "csrt", description="Tracker between detections: OpenCV's CSRT, or SAM 2's video predictor (needs "
        "MUIE_SAM2_CHECKPOINT)."
    )
    video_chunk_frames: int = Field(
        32, ge=2, description="Frames SAM 2 holds at once: a shot is followed chunk by chunk, the last box "
        "carried into the next chunk."
    )
    # batching of model calls across concurrent runs
    batch_max: int = Field(512, ge=1, description="Most items in one batched model call.")
    batch_wait_ms: float = Field(
        50.0, ge=0, description="Longest wait for busy runs to join a batch (runs all parked go at once)."
    )

    # batch (muie batch)
    batch_threads: int = Field(
        0, ge=0, description="Threads each batch worker's models may use; 0: the machine's cores shared among "
        "the workers (2 workers on 2 cores: 1 each)."
    )

    # memory: the store of media, runs, results and tool results; conversations
    data_dir: str | None = Field(
        None, description="Folder of muie's own files (the store's SQLite file, conversations, uploaded media); "
        "default: $XDG_DATA_HOME/muie, else ~/.local/share/muie."
    )
    store_url: str | None = Field(
        None, description="SQLAlchemy URL of the store (e.g. postgresql+psycopg://user@host/db); default: "
        "a SQLite file muie.db in data_dir."
    )
    tool_cache: bool = Field(
        True, description="Reuse tool results kept in the store for the same media, tool, arguments and model "
        "version; off: every tool runs again (results are still kept)."
    )
    store_runs: bool = Field(True, description="Keep each extraction (inputs, schema, result, timings) in the store.")
    reuse_runs: bool = Field(
        True, description="Answer a request the store has answered before (the same text, media bytes, schema, "
        "tasks, reasoner, settings and muie version) with that run's result, running nothing; off: run it again "
        "(its tool calls may still come from the tool cache)."
    )

    # LLM reasoner: any OpenAI-compatible endpoint (vLLM, llama.cpp's server, a hosted API)
    llm_base_url: str = Field(
        "http://127.0.0.1:8000/v1", description="OpenAI-compatible endpoint of the LLM reasoner (up to /v1)."
    )
    llm_model: str = Field("default", description="Model name the endpoint serves.")
    llm_api_key: SecretStr | None = Field(
        None, description="API key of the endpoint: from the environment only (MUIE_LLM_API_KEY), never a file."
    )
    llm_mode: Literal["tools", "json", "meta"] = Field(
        "tools", description="How the LLM returns typed output: tool calling, a JSON object (response_format), or "
        "REAMO's <Module>/<Instruction> text, for a model fine-tuned to plan tool calls so."
    )
    llm_timeout_s: float = Field(120.0, gt=0, description="Longest wait for one LLM answer.")
    llm_max_retries: int = Field(
        2, ge=0, description="Retries, with backoff, of a timeout, a rate limit (429) or a server error (5xx)."
    )
    llm_validation_retries: int = Field(
        2, ge=0, description="Times a malformed or schema-violating answer goes back to the LLM with the errors."
    )
    llm_on_error: Literal["fallback", "fail"] = Field(
        "fallback", description="When the LLM fails for good: go on with the embedded reasoner (noted in the "
        "trace), or fail the run with the error."
    )
    llm_max_tokens: int = Field(1024, ge=16, description="Most tokens of one LLM answer.")
    llm_max_chars: int = Field(6000, ge=200, description="Most characters of text in one LLM call.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature of the LLM.")
    llm_send_images: bool = Field(
        True, description="Send images as data URLs (off for a text-only model: it then reads their OCR words)."
    )
    llm_send_audio: bool = Field(
        False, description="Send raw audio (input_audio) too, for endpoints that accept it; transcripts go always."
    )
    llm_image_side: int = Field(1024, ge=64, description="Longest side of an image sent to the LLM, in pixels.")
    local_model_path: str | None = Field(
        None, description="Folder of a transformers model (an LLM or a VLM) for the local reasoner."
    )
    local_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the local reasoner's model runs: auto is CUDA when there is a GPU."
    )
    # data generation (muie datagen): instruction-tuning records from annotated cases
    datagen_concurrency: int = Field(4, ge=1, description="Records made at once (llm mode: requests in flight).")
    datagen_variants: int = Field(1, ge=1, description="Records made from each case, each worded differently.")
    datagen_rate_limit_retries: int = Field(
        3, ge=0, description="Times a case still rate limited after the client's own retries is tried again, every "
        "worker pausing first (the pause doubling each time)."
    )
    datagen_backoff_s: float = Field(5.0, ge=0, description="First pause of every worker after such a rate limit.")
    datagen_cost_per_1k_input: float = Field(0.0, ge=0, description="Price of 1000 prompt tokens, for the cost.")
    datagen_cost_per_1k_output: float = Field(0.0, ge=0, description="Price of 1000 completion tokens.")
    # service (muie serve)
    serve_token: SecretStr | None = Field(
        None, description="Bearer token the server asks for: from the environment only (MUIE_SERVE_TOKEN)."
    )
    serve_max_upload_mb: float = Field(32.0, gt=0, description="Largest request or uploaded file the server takes.")
    serve_allow_paths: bool = Field(
        False, description="Let clients name media by a path on the server's disk (off: data URLs and uploads only)."
    )
    serve_reasoner: Literal["embedded", "llm", "local"] = Field(
        "embedded", description="Reasoner of the server's default model."
    )
    serve_max_seconds: float = Field(
        1800.0, gt=0, description="Longest audio or video the server takes (seconds); a longer upload is refused."
    )
    serve_max_pixels: int = Field(
        50_000_000, gt=0, description="Largest image or video frame the server takes (width x height pixels)."
    )
    serve_workers: int = Field(1, ge=1, description="Extraction jobs the server runs at once; the others wait.")
    serve_max_jobs: int = Field(
        256, ge=1, description="Jobs the server keeps in memory (the oldest finished go first; results stay on disk)."
    )

    @field_validator("video_tracker")
    @classmethod
    def _tracker_has_checkpoint(cls, v: str, info: ValidationInfo) -> str:
        if v == "sam2" and not info.data.get("sam2_checkpoint"):
            raise ValueError(f"sam2 needs a checkpoint file: set {ENV_PREFIX}SAM2_CHECKPOINT")
        return v

    @field_validator("image_segmenter", "region_scorer")
    @classmethod
    def _backend_has_checkpoint(cls, v: str, info: ValidationInfo) -> str:
        needs = {"sam": "sam_checkpoint", "imagebind": "imagebind_checkpoint"}.get(v)
        if needs and not info.data.get(needs):
            raise ValueError(f"{v} needs a checkpoint file: set {ENV_PREFIX}{needs.upper()}")
        return v

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then the configuration file (``MUIE_CONFIG``, else ``muie.toml`` in the
        working folder, when there is one), then ``MUIE_<NAME>`` variables, then ``overrides``."""
        values: dict[str, object] = dict(_config_file())
        where = {name: str(_config_path()) for name in values}
        for name in cls.model_fields:
            raw = os.environ.get(ENV_PREFIX + name.upper())
            if raw is not None:
                values[name] = raw
                where[name] = ENV_PREFIX + name.upper()
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            err = e.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "settings"
            raise InputError(where.get(name, f"{ENV_PREFIX}{name.upper()}"), err["msg"]) from None


CONFIG_FILE = "muie.toml"
SECRETS = ("llm_api_key", "serve_token")
"""Read from the environment only, never from a file that may be shared or committed."""


def _config_path() -> Path | None:
    named = os.environ.get(ENV_PREFIX + "CONFIG")
    if named:
        return Path(named)
    here = Path(CONFIG_FILE)
    return here if here.is_file() else None


def _config_file() -> dict[str, object]:
    """The settings a TOML file gives (field names as keys); an unreadable file, an unknown
    key or a secret in it is an ``InputError`` naming the file."""
    path = _config_path()
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(str(path), f"cannot be read ({getattr(e, 'strerror', None) or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(str(path), f"is not valid TOML ({e})") from None
    unknown = sorted(k for k in data if k not in Settings.model_fields)
    if unknown:
        raise InputError(str(path), f"unknown setting(s): {', '.join(unknown)}")
    secret = [k for k in data if k in SECRETS]
    if secret:
        raise InputError(str(path), f"{secret[0]} is read from the environment only ({ENV_PREFIX}{secret[0].upper()})")
    return data


def data_dir(settings: Settings) -> Path:
    """Where muie keeps its own files, created on first use."""
    if settings.data_dir:
        root = Path(settings.data_dir).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "muie"
    root.mkdir(parents=True, exist_ok=True)
    return root


@lru_cache(maxsize=1)
def default_settings() -> Settings:
    return Settings.from_env()
