# newsbot — `make run` and `make test` each set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint eval bench index dictionary clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The English–German dictionary (Debian's dict-freedict-eng-deu); optional, never fails.
dictionary:
	@sh scripts/install-dictionary.sh

## run: the Telegram bot when TELEGRAM_BOT_TOKEN is set (env or .env), else a console chat
run: $(STAMP) dictionary
	$(BIN)/newsbot

## test: ruff, then the whole pytest suite
test: $(STAMP) dictionary lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot tests

## eval: retrieval quality on the team's question set
eval: $(STAMP) dictionary
	$(BIN)/newsbot eval tests/questions.jsonl --knowledge tests/knowledge

## index: analyse the knowledge folder once and save the index next to it
index: $(STAMP)
	$(BIN)/newsbot index

## bench: the scale benchmark (1k…1M passages; SIZES=1000,10000 for a quick run)
SIZES ?= 1000,10000,100000,1000000
bench: $(STAMP)
	$(BIN)/newsbot bench --sizes $(SIZES)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
