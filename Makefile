# hmin: two commands do all the set-up.
#   make verify   build .venv if needed, then run every theorem check (writes figures/)
#   make test     build .venv if needed, then run the test suite
#   make docs     regenerate docs/statements.md and docs/api.md from the code
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: verify verify-full test test-slow bench docs lock clean

# constraints.txt pins the exact version of every dependency (pyproject.toml keeps the ranges);
# `make lock` regenerates it after a dependency is added (tools/lock.sh says how).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
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

lock:
	bash tools/lock.sh

clean:
	rm -rf $(VENV) build *.egg-info
