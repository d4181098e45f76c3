# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EVAL ?= $(wildcard ../shared/eval/*.jsonl eval/*.jsonl)

.PHONY: install services run test eval eval-other calibrate bench clean

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

# Reports from other places as they are published (eval/other/: a PDF converted to text, a web page, a .docx),
# added to a copy of the bundled reports the way an admin adds one, then their questions scored. Never fitted on.
OTHER := .cache/other-reports
eval-other: install
	rm -rf $(OTHER) && mkdir -p $(OTHER) && cp seeds/* $(OTHER)/
	TOWNQA_SEEDS=$(OTHER) $(BIN)/townqa add eval/other/reports/qingshi.txt --town 青石镇 --aliases 青石 --county 临河县 \
		--title 青石镇人民政府工作报告 --period 2024年，及2025年目标 --yes > /dev/null
	TOWNQA_SEEDS=$(OTHER) $(BIN)/townqa add eval/other/reports/donghu.html --town 东湖街道 --aliases 东湖 --county 江城区 \
		--title 2025年东湖街道办事处工作报告 --period 2024年，及2025年目标 --yes > /dev/null
	TOWNQA_SEEDS=$(OTHER) $(BIN)/townqa add eval/other/reports/hexi.docx --town 河西高新区 --aliases 河西园区 \
		--title 坚定信心攻坚突破奋力推动河西高新区高质量发展迈上新台阶 --period 2024年，及2025年目标 --yes > /dev/null
	TOWNQA_SEEDS=$(OTHER) $(BIN)/townqa add eval/other/reports/nanling.pdf --town 南岭乡 --aliases 南岭 --county 云溪县 \
		--title 南岭乡人民政府工作报告 --period 2024年，及2025年目标 --yes > /dev/null
	TOWNQA_SEEDS=$(OTHER) TOWNQA_CACHE_DIR=$(OTHER)-index $(BIN)/townqa eval eval/other/*.jsonl

# Refit when to say 「没有找到」 on the same files (cross-validated figures printed), kept in config/.
calibrate: install
	$(BIN)/townqa calibrate --write $(EVAL)

bench: install
	$(BIN)/python benchmarks/retrieval.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
