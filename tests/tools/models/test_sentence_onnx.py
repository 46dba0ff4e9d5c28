"""The sentence embedder on onnxruntime gives the vectors sentence-transformers gives on
PyTorch (the same packaged MiniLM), for short phrases, sentences and a text past the
model's 256 tokens; the install entry refuses what it does not know."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from muie.tools.models.sentence_onnx import default_model_path, encoder

TEXTS = ["person", "political party", "Apple chief executive Tim Cook met Angela Merkel in Berlin.",
         "a cat on a mat", "", "Ünïcödé names: Zoë Saldaña, Ærø, 東京", "word " * 400]


def test_onnx_vectors_are_the_pytorch_ones():
    from sentence_transformers import SentenceTransformer

    ours = encoder().encode(TEXTS)
    theirs = SentenceTransformer(default_model_path(), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.9999
    batch_of_one = np.stack([encoder().encode([t])[0] for t in TEXTS])  # padding changes nothing
    np.testing.assert_allclose(batch_of_one, ours, atol=1e-5)


def test_the_install_entry_names_its_steps():
    proc = subprocess.run([sys.executable, "-m", "muie.tools.install", "nanodet", "telepathy"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "unknown: telepathy" in proc.stderr and "sentence-embedder" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "muie.tools.install", "sentence-embedder"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("transformer.onnx")
