# mace-dance: `make demo` and `make test` set everything up themselves (a .venv at the repository root).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= all
STAMP := $(VENV)/.setup-$(EXTRAS).stamp
# pyrender pins PyOpenGL==3.1.0 (broken on Python >= 3.12); the render extra declares pyrender's requirements
# with PyOpenGL >= 3.1.9 and pyrender itself goes in without its pin (pyproject.toml explains).
PYRENDER := pyrender==0.1.45
comma := ,
WANTS_RENDER := $(filter all render,$(subst $(comma), ,$(EXTRAS)))
# System libraries: ffmpeg (interop checks), GL/EGL for OpenCV and headless rendering (Mesa on the CPU),
# chromium + chromium-driver (the leaderboard page is tested in a real headless browser).
APT_PACKAGES := ffmpeg libgl1 libglib2.0-0 libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 opencv-doc chromium chromium-driver
DATA_OUT ?= data/ma-data
DEMO_OUT ?= demo_out
export PYOPENGL_PLATFORM ?= egl
export MPLBACKEND ?= Agg

.PHONY: help setup apt test test-fast demo build-data lint format bench doctor clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

setup: $(STAMP)  ## create .venv and install the project (editable) with everything the tests need

$(STAMP): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory apt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[$(EXTRAS)]' 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(if $(WANTS_RENDER),$(BIN)/python -m pip install -q --no-deps '$(PYRENDER)' 2>&1 | { grep -v "^WARNING: Location" || true; })
	@$(BIN)/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	@touch $@

apt:  ## install the Debian packages (ffmpeg, EGL/Mesa, OpenCV samples, chromium) when missing
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "warning: missing Debian packages ($$missing) and no root; some tests will skip"; exit 0; fi; \
	  echo "installing Debian packages: $$missing"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test: setup  ## run the whole test suite (slow tests included)
	MACE_DANCE_NO_PROGRESS=1 HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

test-fast: setup  ## run the tests not marked slow
	MACE_DANCE_NO_PROGRESS=1 HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow"

demo: setup  ## the main job end to end, offline: GT test set, tiny Motion Expert, generated videos, scores, Table 1, board
	$(BIN)/python -m tools.demo --out $(DEMO_OUT)

build-data: setup  ## build MA-Data from $$FINEDANCE_DIR, or from the bundled sample when unset (prints each step)
	$(BIN)/ma-data build $(if $(FINEDANCE_DIR),--finedance $(FINEDANCE_DIR),--demo --subsets render,internet) --out $(DATA_OUT)

lint: setup  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup  ## ruff format + autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup  ## run the speed benchmarks (print ratios against in-run baselines)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

doctor: setup  ## check the installation: packages, EGL, ffmpeg, weights cache
	$(BIN)/mace-bench doctor

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
