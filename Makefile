# seqtool developer tasks. `make test` and `make demo` do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv test demo fuzz torture bench clean

venv: $(STAMP)

# The CPU build of torch is installed first so the range in pyproject.toml is
# already satisfied and pip does not fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: venv
	$(BIN)/python -m pytest

demo: venv
	SEQTOOL_HOME=$${SEQTOOL_HOME:-$(CURDIR)/.demo-home} $(BIN)/seqtool train-lm corpora/tinyshakespeare.txt \
		--level char --cell gru --layers 1 --hidden 256 --emb 64 --bptt 64 --max-time 1m --name demo --seed 1
	SEQTOOL_HOME=$${SEQTOOL_HOME:-$(CURDIR)/.demo-home} $(BIN)/seqtool sample --model demo --prime "ROMEO:" --length 400 --temp 0.8 --seed 1
	@echo
	$(BIN)/seqtool summarize corpora/docs/ -n 2

fuzz: venv
	SEQTOOL_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest tests -m fuzz -p no:cacheprovider

torture: venv
	rm -f torture-report.tsv
	SEQTOOL_KILL_TRIALS=200 SEQTOOL_KILL_REPORT=$(CURDIR)/torture-report.tsv $(BIN)/python -m pytest tests -m torture --timeout=0
	cat torture-report.tsv

bench: venv
	$(BIN)/pip install --quiet -e '.[bench]'
	@echo "run the scripts in benchmarks/ (see README, Benchmarks)"

clean:
	rm -rf $(VENV) .demo-home .pytest_cache build *.egg-info
