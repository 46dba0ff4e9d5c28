"""One way to open an ONNX model for the CPU: threads, quiet logs, and memory that is given back.

``lean`` sessions run without onnxruntime's memory arena and memory-pattern planning:
every buffer of a run is freed when the run ends, instead of being kept (and grown)
for the next. For ISNet, whose 1024x1024 activations take about a gigabyte, that keeps
a process at ~1.1 GB instead of 2.2 GB after two images, at the same speed; small
models keep the arena, which costs them nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from muie.tools.runtime import cpu_threads


def open_session(path: str | Path, threads: int, lean: bool = False, spin: bool = True) -> Any:
    """An ``onnxruntime.InferenceSession`` of ``path`` on the CPU with ``threads`` threads
    (or the process's limit, ``tools.base.cpu_threads``); ``spin=False`` lets idle
    threads sleep (they lose on a busy CPU)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = cpu_threads(threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    if lean:
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def write_onnx(model: Any, dummy: tuple[Any, ...], names: list[str], axes: dict[str, dict[int, str]],
               meta: dict[str, Any], out: Path) -> Path:
    """Export the torch ``model`` (run on ``dummy``) to ``out`` as ONNX, with ``meta`` as JSON under
    the metadata key "muie"; written atomically."""
    import warnings

    import onnx
    import torch

    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, dummy, str(tmp), input_names=names, output_names=["logits"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    proto = onnx.load(str(tmp))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "muie", json.dumps(meta)
    onnx.save(proto, str(tmp))
    tmp.replace(out)
    return out


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        b = buf[i]
        value, shift, i = value | (b & 0x7F) << shift, shift + 7, i + 1
        if b < 0x80:
            return value, i


def read_meta(path: str | Path) -> dict[str, Any]:
    """The JSON under the metadata key "muie" of an ONNX file written by ``write_onnx``, read
    without onnxruntime or onnx (a run answered from kept results loads no model): the
    ModelProto's top-level fields are walked and its ``metadata_props`` (field 14) read."""
    buf, i = Path(path).read_bytes(), 0
    while i < len(buf):
        tag, i = _varint(buf, i)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, i = _varint(buf, i)
            continue
        if wire != 2:
            raise ValueError(f"{Path(path).name}: not an ONNX model file")
        size, i = _varint(buf, i)
        body, i = buf[i:i + size], i + size
        if field == 14:  # StringStringEntryProto: key (1), value (2)
            entry, j = {}, 0
            while j < len(body):
                t, j = _varint(body, j)
                n, j = _varint(body, j)
                entry[t >> 3], j = body[j:j + n].decode("utf-8"), j + n
            if entry.get(1) == "muie":
                return json.loads(entry.get(2, "{}"))
    raise ValueError(f"{Path(path).name}: no muie metadata")
