"""The local reasoner: an LLM or a VLM from a transformers folder on this machine.

``LocalModelClient`` speaks as ``reasoner.llm_client.LLMClient`` does (``ask(messages,
response_model)``), so the LLM reasoner runs on it unchanged (``local_reasoner``): the
same prompt, the same typed output, the same fallback. The folder
(``MUIE_LOCAL_MODEL_PATH``) holds a model ``save_pretrained`` wrote and its tokenizer (or,
for a VLM, its processor); the model loads once, on first use.

Typed output without a server: the JSON schema of the response model goes into the system
message, the answer is generated greedily, the first JSON object in it is validated
against the model; a malformed answer goes back to the model with the errors
(``llm_validation_retries``), then it is an ``LLMError`` like an endpoint's. Images (data
URLs in the messages) go to a VLM's processor; a text-only model reads the text parts.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from muie.errors import InputError
from muie.reasoner.llm_client import Answer, LLMError
from muie.settings import Settings, default_settings

M = TypeVar("M", bound=BaseModel)


def first_json_object(text: str) -> Any:
    """The first complete JSON object in ``text`` (prose or code fences around it allowed)."""
    decoder = json.JSONDecoder()
    for k, ch in enumerate(text):
        if ch == "{":
            try:
                return decoder.raw_decode(text, k)[0]
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object in the answer")


class LocalModelClient:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or default_settings()
        path = self.settings.local_model_path
        if not path:
            raise InputError("MUIE_LOCAL_MODEL_PATH", "the local reasoner needs a transformers model folder")
        self.path = Path(path)
        if not (self.path / "config.json").is_file():
            raise InputError(f"MUIE_LOCAL_MODEL_PATH {path}", "not a transformers model folder (no config.json)")
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any, bool] | None = None

    @property
    def endpoint(self) -> str:
        return f"local model {self.path.name}"

    def load(self) -> tuple[Any, Any, bool]:
        """(model, tokenizer or processor, is_vlm), loaded once."""
        with self._lock:
            if self._loaded is None:
                import torch
                import transformers as tf

                device = self.settings.local_device
                if device == "auto":
                    device = "cuda" if torch.cuda.is_available() else "cpu"
                try:
                    processor = tf.AutoProcessor.from_pretrained(self.path)
                except (OSError, ValueError, KeyError, TypeError):
                    processor = None
                is_vlm = processor is not None and hasattr(processor, "image_processor")
                try:
                    if is_vlm:
                        model = tf.AutoModelForImageTextToText.from_pretrained(self.path)
                    else:
                        processor = tf.AutoTokenizer.from_pretrained(self.path)
                        model = tf.AutoModelForCausalLM.from_pretrained(self.path)
                except (OSError, ValueError) as e:
                    raise InputError(f"MUIE_LOCAL_MODEL_PATH {self.path}", f"cannot load the model ({e})") from None
                self._loaded = (model.to(device).eval(), processor, is_vlm)
            return self._loaded

    def generate(self, messages: list[dict[str, Any]], max_new_tokens: int | None = None) -> str:
        """The model's answer to the chat ``messages``, greedy."""
        import torch

        model, proc, is_vlm = self.load()
        chat, images = _plain(messages, keep_images=is_vlm)
        prompt = proc.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        if is_vlm:
            inputs = proc(text=[prompt], images=images or None, return_tensors="pt")
        else:
            inputs = proc(prompt, return_tensors="pt", add_special_tokens=False)
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        tok = proc.tokenizer if is_vlm else proc
        with self._lock, torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=max_new_tokens or self.settings.llm_max_tokens,
                                 do_sample=False, pad_token_id=tok.pad_token_id or tok.eos_token_id)
        return tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    def complete(self, messages: list[dict[str, Any]]) -> tuple[str, float]:
        """The answer's plain text (meta-responses), and the seconds it took."""
        t0 = time.perf_counter()
        return self.generate(messages), time.perf_counter() - t0

    def ask(self, messages: list[dict[str, Any]], response_model: type[M]) -> Answer:
        schema = json.dumps(response_model.model_json_schema(), separators=(",", ":"))
        msgs = [dict(m) for m in messages]
        rule = f"\n\nAnswer with one JSON object that follows this JSON schema, and nothing else:\n{schema}"
        if msgs and msgs[0]["role"] == "system":
            msgs[0]["content"] = str(msgs[0]["content"]) + rule
        else:
            msgs.insert(0, {"role": "system", "content": rule.strip()})
        t0 = time.perf_counter()
        attempts = self.settings.llm_validation_retries + 1
        error = ""
        for _ in range(attempts):
            answer = self.generate(msgs)
            try:
                return Answer(value=response_model.model_validate(first_json_object(answer)),
                              seconds=time.perf_counter() - t0)
            except (ValueError, ValidationError) as e:
                error = " ".join(str(e).split())[:300]
                msgs += [{"role": "assistant", "content": answer},
                         {"role": "user", "content": f"That answer is not valid: {error}. Answer again with the "
                                                     "JSON object only."}]
        raise LLMError("invalid output", self.endpoint, error, attempts)


def _plain(messages: list[dict[str, Any]], keep_images: bool) -> tuple[list[dict[str, Any]], list[Any]]:
    """Messages with string content for the chat template, and the images of their parts."""
    from PIL import Image

    chat, images = [], []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            texts, parts = [], []
            for p in content:
                if p.get("type") == "text":
                    texts.append(p["text"])
                    parts.append({"type": "text", "text": p["text"]})
                elif p.get("type") == "image_url" and keep_images:
                    url = p["image_url"]["url"]
                    images.append(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
                    parts.append({"type": "image"})
            content = parts if keep_images else "\n".join(texts)
        chat.append({"role": m["role"], "content": content or ""})
    return chat, images


def local_reasoner(settings: Settings | None = None) -> Any:
    """The LLM reasoner on a local model."""
    from muie.reasoner.llm import LLMReasoner

    settings = settings or default_settings()
    reasoner = LLMReasoner(settings, client=LocalModelClient(settings))
    reasoner.name = "local"
    return reasoner
