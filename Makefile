# Two commands (see README):  `make study`  runs the mini study,  `make test`  runs the tests.
# Both build .venv from requirements.lock first: the exact versions (with hashes) that the committed
# results were made with, resolved from requirements.txt by `make lock` (environment.yml installs the same).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
# DVC: no analytics, no update checks (machines here are offline)
export DVC_NO_ANALYTICS := 1
export DVC_NO_UPDATER := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# UV_NO_CACHE: torch's CUDA wheels are several GB; a fresh machine gains nothing from a second copy in a
# cache, and a CI disk can be short ("No space left on device"). --compile-bytecode: without it, where
# PYTHONDONTWRITEBYTECODE is set (this machine) every process compiles what it imports: importing the package,
# its reports and DVC took 6.6-6.9 s instead of 4.7-5.1, and CI took longer

.PHONY: study test test-site site browser env lock bench notebooks lab clean-env

# uv installs the lock (every hash required) in parallel: 69 s here against pip's 150 s
UV_VERSION := 0.13.9
UV := UV_NO_CACHE=1 $(BIN)/uv pip install -q --python $(BIN)/python
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-cache-dir uv==$(UV_VERSION)
	$(UV) --compile-bytecode --require-hashes -r requirements.lock
	$(UV) --no-deps -e .
	touch $(STAMP)

env: $(STAMP)

## the main job: every stage of the study at the profile in params.yaml (mini by default).
## `make study PAPER=diba2018`: one paper's stages (those named after it) and what they depend on
PAPERS := tran2018 mansimov2015 feichtenhofer2016 diba2017 diba2018
PAPER ?=
# checked before anything is built: dvc repro --glob with a pattern that matches no stage would run the whole study
ifneq ($(PAPER),)
ifeq ($(filter $(PAPER),$(PAPERS)),)
$(error PAPER=$(PAPER) is not a paper of the study: use one of $(PAPERS))
endif
endif
study: $(STAMP)
	$(BIN)/python -m replicate.dvc_lock repro $(if $(PAPER),--glob '*$(PAPER)*')

## the tests: unit tests of the package and (nbval) every notebook at the smoke profile; the site's browser test
## where headless Chromium is there or can be installed (see `browser`), skipped with its reason where not
test: $(STAMP) browser
	$(BIN)/python -m pytest -q

## the site's tests alone, the browser test required (it fails, not skips, without Chromium)
test-site: $(STAMP) browser
	REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:xdist -o addopts= tests/test_site.py

## headless Chromium for the site's browser test: Debian's chromium-headless-shell (about 30 s; root and apt needed)
CHROMIUM_PACKAGE := chromium-headless-shell
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(CHROMIUM_PACKAGE) >/dev/null
browser:
	@command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null || [ -n "$$CHROMIUM" ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { $(APT_INSTALL) 2>/dev/null || { apt-get update -q >/dev/null && $(APT_INSTALL); }; }; } || \
	  echo "no Chromium and no root apt to install $(CHROMIUM_PACKAGE): the site's browser test is skipped (set CHROMIUM to a browser binary)"

## the study as a static site (results/site/index.html, also browsable without a server), served at http://127.0.0.1:8000
SITE_PORT ?= 8000
site: $(STAMP)
	$(BIN)/dvc repro site
	@echo "serving results/site at http://127.0.0.1:$(SITE_PORT)/ (Ctrl-C stops)"
	$(BIN)/python -m http.server $(SITE_PORT) --bind 127.0.0.1 --directory results/site

## loader vs raw decord, training steps/s vs torchvision, DVC's lock update vs ours, and the synthetic-data difficulty calibration
bench: $(STAMP)
	$(BIN)/python bench/bench_loader.py
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_dvc_lock.py
	$(BIN)/python bench/calibrate_difficulty.py

## JupyterLab on the notebooks (they run at the smoke profile unless their `profile` parameter says otherwise)
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

## rewrite the notebooks from tools/make_notebooks.py and execute them at smoke (nbval's reference outputs)
notebooks: $(STAMP)
	$(BIN)/python tools/make_notebooks.py
	rm -rf runs/smoke results/*/smoke
	for nb in notebooks/*/*.ipynb; do $(BIN)/jupyter nbconvert --to notebook --execute --inplace $$nb || exit 1; done

## re-resolve requirements.lock after editing requirements.txt (uv keeps every pin the new bounds allow;
## `make lock UPGRADE=torch` moves one package). Linux x86_64 / CPython 3.11, the machines the study runs on.
## A new torch / torchvision pin changes trained numbers: rerun `dvc repro` and commit results/ with it.
UPGRADE ?=
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.txt -o requirements.lock --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade-package $(UPGRADE))

clean-env:
	rm -rf $(VENV)
