# Two commands: `make demo` and `make test`. Both create/refresh .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
CONSTRAINTS := requirements/constraints.txt
STAMP  := $(VENV)/.deps-stamp
# The torch CPU build is installed first and pinned (see $(CONSTRAINTS)); point
# TORCH_PIP_ARGS at a CPU wheel index if your pip config does not provide one.
TORCH_PIP_ARGS ?=
PYTEST_ARGS ?= -n 2
SYSTEM_TOOLS := iverilog chromium

.PHONY: demo test venv deps sysdeps install clean bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Third-party dependencies, re-installed only when the files that name them change.
$(STAMP): $(VENV)/bin/python pyproject.toml setup.py $(CONSTRAINTS)
	$(PIP) install -q --upgrade "pip>=23" "setuptools>=68" wheel
	$(PIP) install -q $(TORCH_PIP_ARGS) -c $(CONSTRAINTS) torch
	$(PIP) install -q -c $(CONSTRAINTS) -e ".[frameworks,examples,test]" --config-settings editable_mode=strict
	# lava-nc 0.10.0 declares Python <3.11; snncc.targets.loihi2.lava_compat makes it import on 3.11.
	$(PIP) install -q -c $(CONSTRAINTS) --ignore-requires-python "lava-nc==0.10.0"
	touch $(STAMP)

deps: $(STAMP)

# The strict editable install is a link tree: refresh it so new modules are seen.
install: deps
	$(PIP) install -q --no-deps --no-build-isolation -e . --config-settings editable_mode=strict

# System tools the tests drive (iverilog for the FPGA RTL co-simulation, chromium to open report.html).
sysdeps:
	@for tool in $(SYSTEM_TOOLS); do \
	  command -v $$tool >/dev/null 2>&1 && continue; \
	  echo "installing $$tool (Debian package)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$tool >/dev/null || exit 1; \
	done

demo: install sysdeps
	$(PY) examples/demo.py

test: install sysdeps
	$(PY) -m pytest $(PYTEST_ARGS) tests

bench: install sysdeps
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache out
