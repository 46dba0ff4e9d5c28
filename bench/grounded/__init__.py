"""A seeded, deterministic grounded multimodal benchmark generator.

``python -m bench.grounded.generate OUT_DIR [--seed 0] [--per-kind N]`` writes gold cases
in the result format of the extraction contract (version 1), with media files built so
that every grounding (text span, image box and mask, video track, audio segment) is
exact by construction. See README.md beside this file.
"""

KINDS = (
    "image_paste",
    "image_ocr",
    "image_negative",
    "audio_speech",
    "audio_negative",
    "video_track",
    "mixed",
)
