# hmin: two commands do all the set-up.
#   make verify   build .venv if needed, then run every theorem check (writes figures/)
#   make test     build .venv if needed, then run the test suite (it runs every lecture on a kernel)
#   make docs     execute the lectures and build the static site under site/
#   make lab      open the lectures in JupyterLab (installs it on first use)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: verify verify-full test test-slow bench docs course lab clean

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
	$(PY) tools/course.py docs --out site

course: $(STAMP)
	$(PY) tools/course.py students
	$(PY) tools/course.py strip

lab: $(STAMP)
	$(PY) -m pip install --quiet -e '.[lab]'
	$(VENV)/bin/jupyter lab notebooks/lectures

bench: $(STAMP)
	$(PY) -m pip install --quiet '.[bench]' || echo "torch not installable: PyTorch columns will be skipped"
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) build *.egg-info site
