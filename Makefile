# Two commands do all set-up on a fresh machine:  make run  /  make test
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean system

# Debian packages the build and tests need (gcc, python3-dev, chromium, a CJK
# font): installed when missing as root, else it stops with the command to run
system:
	@PYTHON=$(PYTHON) bash scripts/system-packages.sh

$(STAMP): setup.cfg pyproject.toml
	@PYTHON=$(PYTHON) bash scripts/system-packages.sh build
	@$(PYTHON) -c 'import sys; v=sys.version_info[:2]; sys.exit(0 if (3,11)<=v<(3,13) else "benefits needs Python 3.11 or 3.12 (durable_rules does not build on %d.%d); set PYTHON=python3.11" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# make run PORT=8080 DB=instance/other.sqlite
run: $(STAMP)
	$(BIN)/benefits serve$(if $(PORT), --port $(PORT))$(if $(DB), --db $(DB))

# one worker per core; a test file stays on one worker (its fixtures are per module)
test: system $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_estimate.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_versions.py
	$(BIN)/python benchmarks/bench_compare.py
	$(BIN)/python benchmarks/bench_policy_page.py
	$(BIN)/python benchmarks/bench_distributed.py
	$(BIN)/python benchmarks/bench_audit.py

clean:
	rm -rf $(VENV)
