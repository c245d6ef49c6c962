# Two commands on a fresh machine: `make run` (the main job) and `make test` (the test suite).
# Each creates .venv when missing. Override the inputs: make run DATA=... HF_MODEL=...
# EXTRACT_FLAGS=... TRAIN_FLAGS=... (see README: the best setting found).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MLBERT := $(VENV)/bin/mlbert
DATA ?= ../shared/data/imdb/aclImdb_v1.tar.gz
HF_MODEL ?= ../shared/models/all-MiniLM-L6-v2
RUN ?= runs/main
EXTRACT_FLAGS ?=
TRAIN_FLAGS ?=

.PHONY: run run-hub test test-fast

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,beam,fast]'
	# For tests/test_package.py, offline: Hugging Face evaluate's wheel (the package our name must not break).
	$(PY) -m pip download --quiet --no-deps --dest $(VENV)/wheels evaluate==0.4.6
	touch $@

# Offline main job: import a Hugging Face BERT, extract IMDB once, train the head, evaluate on test.
run: $(VENV)/.installed
	test -d $(RUN)/encoder/encoder || $(MLBERT) import-encoder $(HF_MODEL) --out $(RUN)/encoder
	$(MLBERT) extract --data $(DATA) --out $(RUN)/cache \
		--encoder $(RUN)/encoder/encoder --preprocessor $(RUN)/encoder/preprocessor $(EXTRACT_FLAGS)
	$(MLBERT) train --cache $(RUN)/cache --model-dir $(RUN)/model --overwrite $(TRAIN_FLAGS)
	$(MLBERT) evaluate --cache $(RUN)/cache --model-dir $(RUN)/model

# With internet: the seed's own TF Hub models and tfds.load("imdb_reviews").
run-hub: $(VENV)/.installed
	$(MLBERT) extract --data tfds --out runs/hub/cache
	$(MLBERT) train --cache runs/hub/cache --model-dir runs/hub/model --overwrite
	$(MLBERT) evaluate --cache runs/hub/cache --model-dir runs/hub/model

# lint-imports first: a module that reaches up a layer fails in a second, before the suite's minutes.
test: $(VENV)/.installed
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q -n 2 tests

# The fast tier, while editing: every test not marked slow (tests/pytest.ini says what slow means).
test-fast: $(VENV)/.installed
	$(VENV)/bin/pytest -q -n 2 -m "not slow" tests
