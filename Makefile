# puhui task runner. The README's two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

.PHONY: help install demo test test-fast lint lock clean distclean bench-simulate bench-load \
	bench bench-quick bench-history

help:
	@echo "make demo    set up, simulate a small county, run the nightly pipeline end to end"
	@echo "make test    set up and run the test suite"
	@echo "make lint    ruff over the Python code"
	@echo "make lock    recompile requirements.lock from requirements.in"
	@echo "make clean   stop the embedded PostgreSQL and remove run-time state (.puhui/)"

# The environment is made from the lock file only (every version and hash pinned).
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/puhui demo

test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not integration"

lint: install
	$(BIN)/ruff check dags plugins schemas tests

lock: install
	$(BIN)/uv pip compile requirements.in --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --generate-hashes -o requirements.lock

clean:
	-$(BIN)/puhui db stop
	rm -rf .puhui

distclean: clean
	rm -rf $(VENV)

bench-simulate: install
	$(BIN)/puhui bench-simulate

bench-load: install
	$(BIN)/puhui bench-load

# The benchmark suite (issue #7): every target side by side, bench/results/README.md.
bench: install
	$(BIN)/puhui bench

bench-quick: install
	$(BIN)/puhui bench --quick

# Measure once, record: five years from empty (SCALE=0.1 for the 3-hour target).
SCALE ?= 0.01
bench-history: install
	$(BIN)/puhui bench --history --scale $(SCALE)
