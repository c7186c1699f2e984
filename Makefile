# hmin: two commands do all the set-up.
#   make verify   build .venv if needed, then run every theorem check (writes figures/)
#   make test     build .venv if needed, then run the test suite
#   make docs     regenerate docs/statements.md and docs/api.md from the code
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: verify verify-full test test-slow bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

verify: $(STAMP)
	$(VENV)/bin/hmin verify

verify-full: $(STAMP)
	$(VENV)/bin/hmin verify --full

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

docs: $(STAMP)
	$(PY) -m sims.reference

bench: $(STAMP)
	$(PY) -m pip install --quiet '.[bench]' || echo "torch not installable: PyTorch columns will be skipped"
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) build *.egg-info
