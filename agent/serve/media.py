"""``muie serve``: media uploaded once, kept by content hash, named by that hash afterwards.

- ``POST /v1/media``: one multipart file (field ``file``). Its type comes from the file
  name's suffix, taken only from a whitelist (else from the part's content type); the
  bytes are written to a temporary file, probed with the project's own probes, checked
  against ``serve_max_upload_mb``, ``serve_max_seconds`` and ``serve_max_pixels``, and only
  then kept under the data folder by their SHA-256 (``memory.media.keep_bytes``). Nothing a
  client sends is ever part of a path: a refused file leaves nothing behind.
- ``GET /v1/media/{hash}``: what is known of it (kind, size, width, height, duration...).
- ``GET /v1/media/{hash}/content``: the bytes, for the web page to show or play.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from muie.agent.serve.protocol import HTTPProblem
from muie.errors import InputError
from muie.memory.media import SUFFIXES, keep_bytes, stored_path
from muie.settings import Settings, data_dir

HASH = re.compile(r"^[0-9a-f]{64}$")
CHECK_SIDE = 256
"""The size an uploaded image is decoded at to see that its pixels are there."""
UPLOAD_SUFFIXES = {s: k for s, k in SUFFIXES.items() if k != "text"}
"""The only suffixes a stored file can get: images, audio and video muie reads."""
_BY_TYPE = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/bmp": ".bmp",
            "image/webp": ".webp", "image/tiff": ".tiff", "audio/wav": ".wav", "audio/x-wav": ".wav",
            "audio/wave": ".wav", "audio/flac": ".flac", "audio/mpeg": ".mp3", "audio/ogg": ".ogg",
            "audio/mp4": ".m4a", "audio/aac": ".aac", "audio/opus": ".opus", "video/mp4": ".mp4",
            "video/webm": ".webm", "video/x-matroska": ".mkv", "video/quicktime": ".mov", "video/x-msvideo": ".avi"}
_MIME = {v: k for k, v in reversed(list(_BY_TYPE.items()))} | {".jpeg": "image/jpeg", ".tif": "image/tiff",
                                                               ".m4v": "video/mp4"}


class MediaInfo(BaseModel):
    """A stored media file, as probed."""

    hash: str = Field(description="SHA-256 of the bytes (64 hex digits): the media's name from now on.")
    kind: Literal["image", "audio", "video"]
    size: int = Field(description="Bytes.")
    suffix: str
    format: str | None = Field(None, description="Container or image format, as the probe read it.")
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    fps: float | None = None
    frames: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    has_audio: bool | None = Field(None, description="Video: whether it has a sound track.")


def check_hash(digest: str, what: str = "hash") -> str:
    """``digest`` when it is 64 hex digits (lower-cased), else a 400: no other string names media."""
    d = digest.lower()
    if not HASH.match(d):
        raise HTTPProblem(400, f"{what}: {digest[:80]!r} is not a media hash (64 hex digits)", what)
    return d


def find_media(settings: Settings, digest: str, what: str = "hash") -> Path:
    """The stored file of this hash, or a 404."""
    d = check_hash(digest, what)
    folder = stored_path(data_dir(settings), d).parent
    if folder.is_dir():
        for suffix in UPLOAD_SUFFIXES:
            path = folder / f"{d}{suffix}"
            if path.is_file():
                return path
    raise HTTPProblem(404, f"{what}: no media {d} on this server (upload it with POST /v1/media)", what,
                      "not_found_error")


def _suffix(filename: str, content_type: str) -> str:
    name_suffix = Path(filename).suffix.lower() if filename else ""
    if name_suffix in UPLOAD_SUFFIXES:
        return name_suffix
    by_type = _BY_TYPE.get(content_type.split(";")[0].strip().lower(), "")
    if by_type:
        return by_type
    raise HTTPProblem(415, f"file {filename[:80]!r}: not a media type muie reads (images "
                           f"{_listed('image')}; audio {_listed('audio')}; video {_listed('video')})", "file",
                      "unsupported_media_type")


def _listed(kind: str) -> str:
    return " ".join(s for s, k in UPLOAD_SUFFIXES.items() if k == kind)


def probe_file(path: Path, kind: str, settings: Settings) -> dict[str, Any]:
    """What the project's probe of ``kind`` reads of the file; an ``InputError`` when it
    cannot be read, a 422 when it is over the duration or resolution limit."""
    if kind == "image":
        from muie.tools.media.image_io import load_rgb
        from muie.tools.media.image_io import probe as probe_image

        im = probe_image(str(path))
        info: dict[str, Any] = {"format": im.format, "width": im.width, "height": im.height}
        if im.width * im.height <= settings.serve_max_pixels:
            load_rgb(str(path), CHECK_SIDE)  # the pixels decode, not only the header
    elif kind == "audio":
        from muie.tools.media.audio_io import probe as probe_audio

        au = probe_audio(str(path))
        info = {"format": au.codec, "duration_s": au.duration_s, "sample_rate": au.sample_rate,
                "channels": au.channels}
    else:
        from muie.tools.media.video_io import probe as probe_video

        vi = probe_video(str(path))
        info = {"format": vi.codec, "width": vi.width, "height": vi.height, "duration_s": vi.duration_s,
                "fps": vi.fps, "frames": vi.frames, "has_audio": vi.has_audio}
    pixels = (info.get("width") or 0) * (info.get("height") or 0)
    if pixels > settings.serve_max_pixels:
        raise HTTPProblem(422, f"{info['width']}x{info['height']} pixels, over the limit of "
                               f"{settings.serve_max_pixels} (MUIE_SERVE_MAX_PIXELS)", "file")
    if (info.get("duration_s") or 0) > settings.serve_max_seconds:
        raise HTTPProblem(422, f"{info['duration_s']:.1f} s long, over the limit of {settings.serve_max_seconds:g} s "
                               "(MUIE_SERVE_MAX_SECONDS)", "file")
    return info


def media_info(settings: Settings, digest: str) -> MediaInfo:
    path = find_media(settings, digest)
    kind = UPLOAD_SUFFIXES[path.suffix]
    try:
        info = probe_file(path, kind, settings)
    except InputError as e:
        raise HTTPProblem(500, f"stored media {digest} cannot be read any more ({e.reason})", "hash",
                          "server_error") from None
    return MediaInfo(hash=path.name[:64], kind=kind, size=path.stat().st_size, suffix=path.suffix,  # type: ignore
                     **info)


def store_upload(settings: Settings, data: bytes, filename: str, content_type: str) -> MediaInfo:
    """Probe the bytes in a temporary file, then keep them by hash; a refused file leaves nothing."""
    what = f"file {Path(filename).name[:80]!r}" if filename else "file"
    limit = int(settings.serve_max_upload_mb * 1024 * 1024)
    if len(data) > limit:
        raise HTTPProblem(413, f"{what}: {len(data)} bytes, over the limit of {limit} bytes "
                               "(MUIE_SERVE_MAX_UPLOAD_MB)", "file")
    if not data:
        raise HTTPProblem(400, f"{what}: empty", "file")
    suffix = _suffix(filename, content_type)
    kind = UPLOAD_SUFFIXES[suffix]
    root = data_dir(settings)
    scratch = root / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="upload.", suffix=suffix, dir=scratch)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            info = probe_file(Path(tmp), kind, settings)
        except InputError as e:
            raise HTTPProblem(400, f"{what}: {e.reason}", "file") from None
        except HTTPProblem as e:
            raise HTTPProblem(e.status, f"{what}: {e.message}", e.param) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    digest, _ = keep_bytes(root, data, suffix)
    return MediaInfo(hash=digest, kind=kind, size=len(data), suffix=suffix, **info)  # type: ignore[arg-type]


def media_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/v1/media", tags=["media"])

    @router.post("", response_model=MediaInfo, status_code=201,
                 summary="Upload one image, recording or video; it is kept by its SHA-256")
    async def upload(request: Request, file: UploadFile = File(description="The media file.")) -> MediaInfo:
        data = await file.read()
        await file.close()
        return await run_in_threadpool(store_upload, settings, data, file.filename or "", file.content_type or "")

    @router.get("/{digest}", response_model=MediaInfo, summary="What is known of stored media")
    async def info(digest: str) -> MediaInfo:
        return await run_in_threadpool(media_info, settings, digest)

    @router.get("/{digest}/content", summary="The stored bytes", response_class=FileResponse)
    async def content(digest: str) -> Any:
        path = find_media(settings, digest)
        return FileResponse(path, media_type=_MIME.get(path.suffix, "application/octet-stream"),
                            headers={"Cache-Control": "private, max-age=86400, immutable"})

    return router

