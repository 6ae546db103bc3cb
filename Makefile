# adtrack: `make run` for the demo, `make test` for the whole suite. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test unit clean chromium compose

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m pipeline demo

# Two test processes, whole modules each (their broker and workers are module fixtures): most of the
# suite waits on workers, rebalances and stalls rather than computing.
test: $(STAMP) chromium compose
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The web page tests drive Debian's chromium through Playwright (its own browser download cannot work here).
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

# tests/unit/test_compose.py also checks docker/compose.yaml with Debian's docker-compose (no daemon needed). Without
# the package (apt unreachable) those two checks are skipped, saying why, and the rest of the suite runs.
compose:
	command -v docker-compose >/dev/null || (apt-get update && apt-get install -y --no-install-recommends docker-compose) \
		|| echo "docker-compose not installed: tests/unit/test_compose.py skips its docker-compose checks"

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
