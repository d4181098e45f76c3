# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EVAL ?= $(wildcard ../shared/eval/*.jsonl eval/*.jsonl)

.PHONY: install services run test eval calibrate bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# The console chat on the bundled reports (the Telegram bot once a token is set).
run: install
	$(BIN)/townqa run

# PostgreSQL and nginx for the replica tests (tests/test_replicas_e2e.py): installed where apt-get and root allow.
services:
	@bash tests/services.sh

test: install services
	$(BIN)/python -m pytest -q

# One table per question file in ../shared/eval/ and eval/, per question type; eval/unseen/ is scored but never
# fitted on (calibrate leaves it out).
eval: install
	$(BIN)/townqa eval $(EVAL) $(wildcard eval/unseen/*.jsonl)

# Refit when to say 「没有找到」 on the same files (cross-validated figures printed), kept in config/.
calibrate: install
	$(BIN)/townqa calibrate --write $(EVAL)

bench: install
	$(BIN)/python benchmarks/retrieval.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
