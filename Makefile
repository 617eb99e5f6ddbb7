# The two commands of the README. Both do all the set-up on a fresh machine.
#   make demo  -- AU extraction on a sample video, with a report
#   make test  -- the test suite (all of it, what CI runs)
# and, while developing:
#   make test-fast -- the tests not marked slow (under a minute on 2 cores once the Numba cache is warm)
SHELL := /bin/bash
SHARED ?= $(abspath ../shared)
VENV ?= .venv
PY := $(VENV)/bin/python
# every tool finds the shared folder through AUBENCH_SHARED (aubench/harness/paths.py)
export AUBENCH_SHARED ?= $(SHARED)
export AUBENCH_MODELS ?= $(SHARED)/openface
export NUMBA_CACHE_DIR ?= $(abspath .numba_cache)

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,cluster]'
	touch $@

install: $(VENV)/.installed

# the lint (rule set and why: pyproject.toml, [tool.ruff])
lint: install
	$(VENV)/bin/ruff check .

test: install lint
	$(PY) -m pytest -n 2 -q
	# the BLAS-sensitive trace comparisons again under two other OpenBLAS kernel families (both run on
	# any x86-64 with AVX2): their tolerances must hold on every CPU (tests/tolerances.py)
	if [ "$$(uname -m)" = x86_64 ]; then for core in Haswell Sandybridge; do \
	  echo "== tests marked blas with OPENBLAS_CORETYPE=$$core"; \
	  OPENBLAS_CORETYPE=$$core $(PY) -m pytest -m blas -q -p no:cacheprovider || exit 1; done; fi
	# the gate: this tree against the baseline revision (reports/gate.toml), both run here, interleaved:
	# CPU time, instructions under valgrind, parity by C++'s own cross-CPU spread
	AUBENCH_SHARED=$(SHARED) $(VENV)/bin/aubench gate -o out/gate.json

# everything but the whole-clip and multi-second tests (marked slow); `make test` still runs those
test-fast: install lint
	$(PY) -m pytest -m "not slow" -n 2 -q

demo: install
	$(VENV)/bin/aubench models verify --dir $(AUBENCH_MODELS)
	# AU extraction on the sample video as a user runs it (fast preset): CSV, .hog, aligned faces, tracked video
	$(VENV)/bin/aubench run $(SHARED)/media/default.wmv -o out/default --hogalign --simalign --tracked
	# where the time goes (in-process per-stage timers; Numba's cache load reported apart)
	$(VENV)/bin/aubench profile $(SHARED)/media/default.wmv --config fast -o out/results/fast.json --quiet
	# with a C++ OpenFace build (OPENFACE_CPP=path/to/build, from ../shared/tools/build_openface_cpp.sh): aubench vs
	# C++ measured here (not CPP: make already uses that name for the C preprocessor)
	if [ -n "$(OPENFACE_CPP)" ]; then $(VENV)/bin/aubench ab cpp:$(OPENFACE_CPP) fast $(SHARED)/media/default.wmv --pairs 3 \
	  -o out/results/cpp_vs_fast.json; fi
	# verdicts first, then phase table, stages, parity of the CSV (judged by C++'s cross-CPU spread), A/B
	AUBENCH_SHARED=$(SHARED) $(VENV)/bin/aubench report out/results out/default -o out/report
	@echo "CSV: out/default/default.csv (+ .hog, _aligned/, .avi)  report: out/report/report.html (and report.md)"

.PHONY: install lint test test-fast demo
