# Two commands on a fresh machine: `make run` (the main job) and `make test` (the test suite).
# Each creates .venv when missing. Override the inputs: make run DATA=... HF_MODEL=...
# EXTRACT_FLAGS=... TRAIN_FLAGS=... (see README: the best setting found).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= ../shared/data/imdb/aclImdb_v1.tar.gz
HF_MODEL ?= ../shared/models/all-MiniLM-L6-v2
RUN ?= runs/main
EXTRACT_FLAGS ?=
TRAIN_FLAGS ?=

.PHONY: run run-hub test

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,beam]'
	touch $@

# Offline main job: import a Hugging Face BERT, extract IMDB once, train the head, evaluate on test.
run: $(VENV)/.installed
	test -d $(RUN)/encoder/encoder || $(PY) cli.py import-encoder $(HF_MODEL) --out $(RUN)/encoder
	$(PY) cli.py extract --data $(DATA) --out $(RUN)/cache \
		--encoder $(RUN)/encoder/encoder --preprocessor $(RUN)/encoder/preprocessor $(EXTRACT_FLAGS)
	$(PY) cli.py train --cache $(RUN)/cache --model-dir $(RUN)/model --overwrite $(TRAIN_FLAGS)
	$(PY) cli.py evaluate --cache $(RUN)/cache --model-dir $(RUN)/model

# With internet: the seed's own TF Hub models and tfds.load("imdb_reviews").
run-hub: $(VENV)/.installed
	$(PY) cli.py extract --data tfds --out runs/hub/cache
	$(PY) cli.py train --cache runs/hub/cache --model-dir runs/hub/model --overwrite
	$(PY) cli.py evaluate --cache runs/hub/cache --model-dir runs/hub/model

test: $(VENV)/.installed
	$(PY) -m pytest -q tests
