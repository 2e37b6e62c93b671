# asrx: `make demo` runs the main job on a local server, `make test` runs the tests.
# Every target builds what it needs: the virtualenvs below and, where the
# machine allows it, the Debian packages that hold real speech recordings
# and the PortAudio library the microphone needs.

PYTHON ?= python3
VENV ?= .venv
SEED_VENV ?= .venv-seed
BIN := $(VENV)/bin
DEBIAN_PACKAGES := pocketsphinx-testdata espeak-ng sox libportaudio2 ffmpeg chromium
# The bench times start-up with hyperfine and peak memory with GNU time.
BENCH_PACKAGES := hyperfine time

.PHONY: demo test bench debian-packages clean

demo: $(VENV)/.installed debian-packages
	$(BIN)/python scripts/demo.py

test: $(VENV)/.installed $(SEED_VENV)/.installed debian-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: DEBIAN_PACKAGES += $(BENCH_PACKAGES)
bench: $(VENV)/.installed debian-packages
	$(BIN)/python bench/run.py $(BENCH_ARGS)

$(VENV)/.installed: setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,test]'
	touch $@

# The service's documented example client needs websockets<14, which the
# server cannot share a virtualenv with.
$(SEED_VENV)/.installed:
	$(PYTHON) -m venv $(SEED_VENV)
	$(SEED_VENV)/bin/python -m pip install --quiet 'websockets<14' colorama
	touch $@

debian-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "make: cannot install" $$missing "(needs root and apt-get); tests that need them are skipped"; \
	fi

clean:
	rm -rf $(VENV) $(SEED_VENV) build *.egg-info .pytest_cache .hypothesis bench/results
