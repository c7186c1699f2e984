# hmin: two commands do all the set-up.
#   make verify   build .venv if needed, then run every theorem check (writes figures/)
#   make test     build .venv if needed, then run the test suite (it runs every lecture on a kernel)
#   make docs     regenerate docs/statements.md and docs/api.md, execute the lectures, build the course site
#                 (site/instructor/ with solutions, site/student/ without; Sphinx, offline)
#   make lab      open the lectures in JupyterLab (installs it on first use)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: verify verify-full test test-slow bench docs course lab lock clean

# constraints.txt pins the exact version of every dependency (pyproject.toml keeps the ranges);
# `make lock` regenerates it after a dependency is added (tools/lock.sh says how).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# two processes, each taking the next check when it is free: 1.3-1.6x faster than one on this 2-core machine,
# same verdicts and numbers (BENCHMARKS.md, bench_verify); VERIFY_PROCESSES=1: one process
VERIFY_PROCESSES ?= 2
verify: $(STAMP)
	$(VENV)/bin/hmin verify --processes $(VERIFY_PROCESSES)

verify-full: $(STAMP)
	$(VENV)/bin/hmin verify --full

# two pytest-xdist workers, a test file per worker (BENCHMARKS.md, "make test"); TEST_WORKERS=0: one process
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

# the course site needs the docs extra (Sphinx, MyST-NB, the book theme); `make docs` installs it on
# first use. The browser test (pytest -m slow tests/test_course.py) also needs Chromium:
#   apt-get update && apt-get install -y chromium
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) tools/reference.py
	$(PY) tools/course.py students
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

lock:
	bash tools/lock.sh

clean:
	rm -rf $(VENV) build *.egg-info site
