# Two commands do all set-up on a fresh clone: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck pytest bench asv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo's release check may well find a regression (exit 1): that is its answer, not a failure.
demo: $(STAMP)
	$(BIN)/mlgate check v1 v2 --spec mlgate.reference:spec --plan quick; code=$$?; \
	if [ $$code -eq 1 ]; then echo "make demo: the release check found a regression (mlgate exit code 1)"; \
	elif [ $$code -ne 0 ]; then exit $$code; fi

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

# Unit tests only (no real servers, locust, asv or Chromium): feedback in about a minute.
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

# The full asv suite over the last N first-parent commits (rounds interleaved), then the HTML.
N ?= 5
asv: $(STAMP)
	mkdir -p .asv
	$(BIN)/asv machine --yes
	git rev-list --first-parent -n $(N) HEAD > .asv/commits.txt
	$(BIN)/asv run --record-samples --interleave-rounds --skip-existing-commits HASHFILE:.asv/commits.txt
	$(BIN)/asv publish
	$(BIN)/python -m mlgate.asv_integration.html results/html

# Times the pytest-benchmark micro-benchmarks (make test runs each once, untimed) and saves every
# round to .benchmarks/<machine>/NNNN_$(BENCH_SAVE).json for `mlgate compare --pytest-benchmark-*`.
BENCH_SAVE ?= bench
bench: $(STAMP)
	$(BIN)/pytest tests/perf --benchmark-enable --benchmark-columns=median,iqr,min,max,rounds \
		--benchmark-save=$(BENCH_SAVE) --benchmark-save-data

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
