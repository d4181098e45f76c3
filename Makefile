# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EVAL ?= ../shared/eval/dev_qa.jsonl

.PHONY: install run test eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# The console chat on the bundled reports (the Telegram bot once a token is set).
run: install
	$(BIN)/townqa run

test: install
	$(BIN)/python -m pytest -q

eval: install
	$(BIN)/townqa eval $(EVAL)

bench: install
	$(BIN)/python benchmarks/retrieval.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
