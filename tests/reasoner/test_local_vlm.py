"""The local reasoner's loading and generation, on a tiny randomly initialised Qwen2 model
and a small tokenizer that the test builds and saves (random weights: the code is tested,
not the quality). What it generates is no valid extraction, so the run must end in the
retries and the fallback, never a crash; the JSON reading is tested on its own."""

from __future__ import annotations

import json

import pytest

from muie.agent.api import Agent, extract
from muie.errors import InputError
from muie.reasoner.llm_client import LLMError
from muie.reasoner.llm_prompt import Extraction
from muie.reasoner.local_vlm import LocalModelClient, first_json_object, local_reasoner
from muie.settings import Settings

CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-qwen2")
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    corpus = ['{"entities": [{"text": "Marie Curie", "type": "person"}], "relations": [], "events": []}',
              "Marie Curie was born in Warsaw. You extract entities, relations and events.", "system user assistant"]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    from tokenizers import decoders

    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=CHAT_TEMPLATE)
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=8192,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    return str(folder)


def test_loads_once_and_generates_greedily(tiny_model) -> None:  # type: ignore[no-untyped-def]
    client = LocalModelClient(Settings(local_model_path=tiny_model, local_device="cpu"))
    msgs = [{"role": "system", "content": "You extract entities."},
            {"role": "user", "content": [{"type": "text", "text": "Marie Curie was born in Warsaw."},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}]
    a = client.generate(msgs, max_new_tokens=12)
    model = client.load()[0]
    assert client.generate(msgs, max_new_tokens=12) == a  # greedy: the same answer
    assert client.load()[0] is model  # loaded once
    assert isinstance(a, str) and 0 < len(client.load()[1](a)["input_ids"]) <= 12 + 2


def test_invalid_generation_is_retried_then_an_llm_error(tiny_model) -> None:  # type: ignore[no-untyped-def]
    s = Settings(local_model_path=tiny_model, local_device="cpu", llm_validation_retries=1, llm_max_tokens=16)
    client = LocalModelClient(s)
    with pytest.raises(LLMError, match=r"local model .* invalid output after 2 attempt\(s\)"):
        client.ask([{"role": "user", "content": "Marie Curie was born in Warsaw."}], Extraction)


def test_the_local_reasoner_falls_back_and_the_run_holds(tiny_model) -> None:  # type: ignore[no-untyped-def]
    s = Settings(local_model_path=tiny_model, local_device="cpu", llm_validation_retries=0, llm_max_tokens=16)
    r = extract(text="Marie Curie was born in Warsaw.", schema={"entity_types": ["person", "city"]},
                agent=Agent(local_reasoner(s), settings=s))
    notes = [step.summary for step in r.trace if step.node == "reason"]
    assert "fallback" in notes[0] and "local model" in notes[0]
    assert "Marie Curie" in {e.text for e in r.entities}


def test_bad_model_folder_is_bad_input(tmp_path) -> None:
    with pytest.raises(InputError, match="MUIE_LOCAL_MODEL_PATH"):
        LocalModelClient(Settings())
    with pytest.raises(InputError, match="no config.json"):
        LocalModelClient(Settings(local_model_path=str(tmp_path)))
    with pytest.raises(InputError, match="reasoner: unknown reasoner"):
        Agent("telepathy")


def test_first_json_object_reads_past_prose_and_fences() -> None:
    assert first_json_object('Sure! ```json\n{"entities": [], "x": {"y": "}"}}\n``` done') == {
        "entities": [], "x": {"y": "}"}}
    assert first_json_object('{broken {"a": 1}') == {"a": 1}
    with pytest.raises(ValueError, match="no JSON object"):
        first_json_object("no braces here")
    answer = {"entities": [{"text": "A", "type": "b"}], "relations": [], "events": []}
    assert Extraction.model_validate(first_json_object("Here: " + json.dumps(answer))).entities[0].text == "A"
