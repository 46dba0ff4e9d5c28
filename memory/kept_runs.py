"""A request answered before is answered again from the store, without running the agent.

The fingerprint of a request is a SHA-256 over everything its result depends on: the
text, the bytes of each media file (by content hash, under its input id), the schema,
the tasks, the reasoner, the settings an extraction reads (not those of the store, the
service or batches) and muie's version. A run kept under a fingerprint answers the
same fingerprint later: the second extraction of the same media and text costs the
inputs' check and one read of the store, no model and no graph. ``reuse_runs`` (on by
default) turns it off, for a fresh run whose tool calls still come from the tool cache.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from muie.memory.media import content_hash, hash_text
from muie.memory.tool_cache import muie_version
from muie.settings import Settings

NOT_RUN_SETTINGS = ("data_dir", "store_url", "tool_cache", "store_runs", "reuse_runs", "batch_max", "batch_wait_ms",
                    "batch_threads", "llm_api_key")
NOT_RUN_PREFIXES = ("serve_", "datagen_")
"""Settings no result depends on: where things are kept, how they are served or batched, secrets."""


def request_fingerprint(request: Any, reasoner: str, settings: Settings) -> str:
    """The fingerprint of an ``agent.state.Request`` as ``reasoner`` would run it under ``settings``."""
    relevant = {k: v for k, v in settings.model_dump(mode="json").items()
                if k not in NOT_RUN_SETTINGS and not k.startswith(NOT_RUN_PREFIXES)}
    media = {i.id: [i.modality, content_hash(i.path)] for i in request.inputs if i.modality != "text" and i.path}
    blob = json.dumps({
        "muie": muie_version(), "reasoner": reasoner, "settings": relevant,
        "text": hash_text(request.text) if request.text is not None else None, "media": media,
        "schema": request.schema_.model_dump(mode="json"), "tasks": sorted(request.tasks),
    }, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
