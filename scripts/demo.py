#!/usr/bin/env python3
"""The main job, end to end: `make demo`.

With no service key at hand (ASRX_API_KEY unset), it starts `asrx serve` on a
free port with a fresh API key, streams a real speech recording to it with
`asrx transcribe` at real-time speed, prints the transcript on stdout (what
was played and what should be heard go to stderr), stops the server, and
exits non-zero if any step failed or the transcript is not the expected one.
Nothing is fetched from the network.

With ASRX_API_KEY set, it speaks a Thai sentence with espeak-ng instead and
pipes it, as a WAV stream, into `asrx transcribe -` against the service
(ASRX_URL, or the default iApp endpoint), the transcript appearing as the
audio plays.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from asrx_cli.server.process import ServeProcess, asrx_command

SAMPLE = Path("/usr/share/pocketsphinx/test/data/goforward.raw")
SAMPLE_DESCRIPTION = "goforward.raw from Debian's pocketsphinx-testdata (raw s16le, 16 kHz, mono)"
EXPECTED = "go forward ten meters"
TRANSCRIBE_TIMEOUT = 120


def say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


def transcribe(url: str, api_key: str) -> str:
    environment = dict(os.environ, ASRX_API_KEY=api_key)
    result = subprocess.run(
        asrx_command() + ["transcribe", "--url", url, str(SAMPLE)],
        stdout=subprocess.PIPE, text=True, env=environment, timeout=TRANSCRIBE_TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"asrx transcribe failed with exit status {result.returncode}")
    return result.stdout


THAI_SENTENCE = "สวัสดีครับ วันนี้อากาศดีมาก"


def transcribe_with_service() -> int:
    """Thai speech from espeak-ng, streamed at real time to the configured service."""
    say(f"ASRX_API_KEY is set: streaming espeak-ng's Thai voice to {os.environ.get('ASRX_URL', 'the iApp service')}")
    say(f"spoken: {THAI_SENTENCE}")
    try:
        speech = subprocess.Popen(["espeak-ng", "-v", "th", "--stdout", THAI_SENTENCE], stdout=subprocess.PIPE)
    except FileNotFoundError:
        say("espeak-ng is missing: install the Debian package espeak-ng")
        return 1
    client = subprocess.run(asrx_command() + ["transcribe", "--speed", "1", "-"], stdin=speech.stdout)
    speech.stdout.close()
    speech.wait()
    return client.returncode


def main() -> int:
    if os.environ.get("ASRX_API_KEY"):
        return transcribe_with_service()
    if not SAMPLE.exists():
        say(f"{SAMPLE} is missing: install the Debian package pocketsphinx-testdata")
        return 1
    api_key = secrets.token_urlsafe(24)
    say(f"sample: {SAMPLE_DESCRIPTION}")
    say(f"expected: {EXPECTED}")
    try:
        server = ServeProcess(env={"ASRX_SERVER_KEYS": api_key}, relay=sys.stderr)
    except RuntimeError as error:
        say(f"failed: {error}")
        return 1
    try:
        transcript = transcribe(server.url, api_key)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        say(f"failed: {error}")
        server.stop()
        return 1
    sys.stdout.write(transcript)
    sys.stdout.flush()
    status, _ = server.stop()
    if status != 0:
        say(f"asrx serve exited with status {status}")
        return 1
    if transcript.strip() != EXPECTED:
        say(f"the transcript is not the expected {EXPECTED!r}")
        return 1
    say("ok: the transcript is the expected one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
