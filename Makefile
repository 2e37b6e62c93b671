# asrx: `make demo` runs the main job on a local server, `make test` runs the tests.
# Every target builds what it needs: the virtualenvs below and, where the
# machine allows it, the Debian packages that hold real speech recordings
# and the PortAudio library the microphone needs.

PYTHON ?= python3
VENV ?= .venv
SEED_VENV ?= .venv-seed
BIN := $(VENV)/bin
DEBIAN_PACKAGES := pocketsphinx-testdata espeak-ng sox libportaudio2
# The tests read subtitles back with ffmpeg and a real browser.
TEST_READERS := ffmpeg chromium
# Installed without what they recommend (jackd2 recommends a GUI).
BARE_PACKAGES :=
# The tests' real-time capture device: a JACK server and ALSA's plugin for it.
TEST_PACKAGES := jackd2 libasound2-plugins
# The bench times start-up with hyperfine and peak memory with GNU time.
BENCH_PACKAGES := hyperfine time

.PHONY: demo test lint bench debian-packages clean

demo: $(VENV)/.installed debian-packages
	$(BIN)/python scripts/demo.py

test: DEBIAN_PACKAGES += $(TEST_READERS)
test: BARE_PACKAGES += $(TEST_PACKAGES)
test: $(VENV)/.installed $(SEED_VENV)/.installed debian-packages lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff and mypy, with their settings in ruff.toml and setup.cfg.
lint: $(VENV)/.installed
	$(BIN)/ruff check
	$(BIN)/mypy

bench: DEBIAN_PACKAGES += $(BENCH_PACKAGES)
bench: $(VENV)/.installed debian-packages
	$(BIN)/python -m bench.run $(BENCH_ARGS)

$(VENV)/.installed: setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,test,bench,lint]'
	touch $@

# The service's documented example client needs websockets<14, which the
# server cannot share a virtualenv with.
$(SEED_VENV)/.installed:
	$(PYTHON) -m venv $(SEED_VENV)
	$(SEED_VENV)/bin/python -m pip install --quiet 'websockets<14' colorama
	touch $@

debian-packages:
	@missing() { for p in "$$@"; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done; }; \
	full=$$(missing $(DEBIAN_PACKAGES)); bare=$$(missing $(BARE_PACKAGES)); \
	if [ -z "$$full$$bare" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then sudo=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo; \
	else echo "make: cannot install" $$full $$bare "(needs root and apt-get); tests that need them are skipped"; exit 0; fi; \
	echo "installing Debian packages:" $$full $$bare; \
	install="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"; \
	$$sudo apt-get update -qq && { [ -z "$$full" ] || $$install $$full >/dev/null; } && \
	{ [ -z "$$bare" ] || $$install --no-install-recommends $$bare >/dev/null; }

clean:
	rm -rf $(VENV) $(SEED_VENV) build *.egg-info .pytest_cache .hypothesis bench/results
