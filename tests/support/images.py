"""Image files for the tests: a photo, PNG chunks written by hand, and the check that a
file is refused as bad input with the reason's words."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from muie.errors import InputError
from muie.tools.media.image_io import load_rgb

PNG_SIG = b"\x89PNG\r\n\x1a\n"


def refused(path, *words: str) -> InputError:
    with pytest.raises(InputError) as e:
        load_rgb(path)
    assert e.value.what == str(path), e.value
    for w in words:
        assert w in e.value.reason, e.value.reason
    return e.value


def photo() -> np.ndarray:
    from skimage import data

    return data.astronaut()  # 512x512x3


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
