# The two commands of the README. Each does its own set-up on a fresh machine:
# apt packages when running as root, a virtual environment, torch pinned to the CPU wheel.
VENV ?= .venv
PY := $(VENV)/bin/python
APT_PACKAGES := bubblewrap chromium
TORCH_PIN := torch==2.13.0

.PHONY: setup demo test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIN)
	$(PY) -m pip install -q -e '.[all]'
	touch $@

demo: setup
	$(PY) -m agents.demo

test: setup
	$(PY) -m pytest -q --timeout=600

bench: setup
	$(PY) benchmarks/env_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info
