#!/usr/bin/env python3
"""The main job, end to end: `make demo`.

With no service key at hand (ASRX_API_KEY unset), it starts `asrx serve` on a
free port with a fresh API key, streams two real speech recordings to it with
`asrx transcribe` at real-time speed (a short command, and a sentence read from
a novel), prints each transcript on stdout with what was said on stderr
beside it, stops the server, and exits non-zero if any step failed or the
command was not heard word for word. Nothing is fetched from the network.

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

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
SAMPLE = TESTDATA / "goforward.raw"
EXPECTED = "go forward ten meters"
READING = TESTDATA / "librivox" / "sense_and_sensibility_01_austen_64kb-0930.wav"
TRANSCRIBE_TIMEOUT = 120


def say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


def reading_reference() -> str:
    """What is said in READING, from the package's transcription file."""
    for line in (READING.parent / "transcription").read_text().splitlines():
        if line.rstrip().endswith(f"({READING.stem})"):
            return " ".join(w for w in line.split()[:-1] if w not in ("<s>", "</s>"))
    return "?"


def transcribe(url: str, api_key: str, sample: Path) -> str:
    environment = dict(os.environ, ASRX_API_KEY=api_key)
    result = subprocess.run(
        asrx_command() + ["transcribe", "--url", url, str(sample)],
        stdout=subprocess.PIPE, text=True, env=environment, timeout=TRANSCRIBE_TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"asrx transcribe failed with exit status {result.returncode}")
    return result.stdout


THAI_SENTENCE = "สวัสดีครับ วันนี้อากาศดีมาก"


def transcribe_with_service() -> int:
    """Thai speech from espeak-ng, streamed at real time to the configured service."""
    say("ASRX_API_KEY is set: streaming espeak-ng's Thai voice to "
        f"{os.environ.get('ASRX_URL', 'the iApp service')}")
    say(f"spoken: {THAI_SENTENCE}")
    try:
        speech = subprocess.Popen(["espeak-ng", "-v", "th", "--stdout", THAI_SENTENCE],
                                  stdout=subprocess.PIPE)
    except FileNotFoundError:
        say("espeak-ng is missing: install the Debian package espeak-ng")
        return 1
    client = subprocess.run(asrx_command() + ["transcribe", "--speed", "1", "-"],
                            stdin=speech.stdout)
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
    samples = [(SAMPLE, EXPECTED)] + ([(READING, reading_reference())] if READING.exists() else [])
    try:
        server = ServeProcess(env={"ASRX_SERVER_KEYS": api_key}, relay=sys.stderr)
    except RuntimeError as error:
        say(f"failed: {error}")
        return 1
    transcripts = []
    try:
        for sample, said in samples:
            say(f"{sample.name} from Debian's pocketsphinx-testdata (16 kHz mono); "
                "what was said, then what was heard:")
            say(f"said: {said}")
            transcripts.append(transcribe(server.url, api_key, sample))
            sys.stdout.write(transcripts[-1])
            sys.stdout.flush()
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        say(f"failed: {error}")
        server.stop()
        return 1
    transcript = transcripts[0]
    status, _ = server.stop()
    if status != 0:
        say(f"asrx serve exited with status {status}")
        return 1
    if transcript.strip() != EXPECTED:
        say(f"the transcript is not the expected {EXPECTED!r}")
        return 1
    say("ok: the command was heard word for word")
    return 0


if __name__ == "__main__":
    sys.exit(main())
