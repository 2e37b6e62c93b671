"""Real speech through `asrx serve`: what a user would check of a transcript.

Recordings and transcripts from pocketsphinx-testdata. The engine is
PocketSphinx's default English model: the words below are the ones it
recognises, and the rest is held to a word error rate bound, a loose guard
against regressions (`make bench`, figure 11, measures 25.4% through this
server with a session per recording, against 28.2% for PocketSphinx's own
offline decode of the same files; 21.1% with all of them in one session).
"""

import json
import re
import subprocess
import threading
from pathlib import Path

import pytest

from tests.support import REPO
from tests.support.run import run_asrx, subprocess_env
from tests.support.serving import server_fixture
from tests.support.speech import (
    GOFORWARD,
    GOFORWARD_TEXT,
    NUMBERS,
    exchange_audio,
    librivox_transcripts,
    needs_testdata,
    read_pcm,
    silence,
    word_error_rate,
)

pytestmark = needs_testdata

KEY = "speech-key-73c1"
WER_BOUND = 0.32

DOCUMENTED_CLIENT = REPO / "tests" / "data" / "documented_file_client.py"
SEED_PYTHON = REPO / ".venv-seed" / "bin" / "python"

# Words the engine gets right in each LibriVox recording, whatever the session.
RECOGNISED = {
    "0870": "leisure to consider how",
    "0880": "young man",
    "0890": "rather cold hearted",
    "0920": "he might have been made still more respectable",
    "0930": "he might even have been made",
}


def recognised_words(path: Path) -> str:
    return RECOGNISED[path.stem.rsplit("-", 1)[1]]


server = server_fixture("server", api_keys=frozenset({KEY}), limits=dict(close_wait=1.0))


def in_parallel(function, items):
    results = {}

    def run(item):
        results[item] = function(item)

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return [results.get(item) for item in items]


# --- Over the WebSocket protocol ------------------------------------------------


def test_goforward_is_heard_word_for_word(server):
    assert exchange_audio(server.url, read_pcm(GOFORWARD), api_key=KEY).transcript == GOFORWARD_TEXT


def test_numbers_are_heard(server):
    transcript = exchange_audio(server.url, read_pcm(NUMBERS), api_key=KEY).transcript
    assert transcript.startswith("thirty three four")
    assert transcript.endswith("six ninety two")


def test_librivox_one_session_per_recording(server):
    transcripts = librivox_transcripts()
    paths = sorted(transcripts)
    exchanges = in_parallel(lambda path: exchange_audio(server.url, read_pcm(path), api_key=KEY),
                            paths)
    hypotheses = [exchange.transcript for exchange in exchanges]
    for path, hypothesis in zip(paths, hypotheses):
        assert recognised_words(path) in hypothesis, path.name
    assert word_error_rate([transcripts[p] for p in paths], hypotheses) < WER_BOUND


def test_librivox_in_one_session_gives_one_sentence_per_recording(server):
    transcripts = librivox_transcripts()
    paths = sorted(transcripts)
    pcm = b"".join(read_pcm(path) + silence(1.0) for path in paths)
    exchange = exchange_audio(server.url, pcm, api_key=KEY)
    sentences = exchange.sentences()
    assert len(sentences) == len(paths)
    assert [m["state"] for m in exchange.realtime].count("NewSentence") == len(paths) - 1
    for path, sentence in zip(paths, sentences):
        assert recognised_words(path) in sentence, path.name
    assert word_error_rate([transcripts[p] for p in paths], sentences) < WER_BOUND


def test_read_speech_without_pauses_is_cut_into_sentences_the_engine_keeps_up_with(server):
    # The recordings joined by gaps too short to end a sentence, twice: 50 s of speech.
    transcripts = librivox_transcripts()
    paths = sorted(transcripts)
    pcm = b"".join(read_pcm(path) + silence(0.1) for path in paths) * 2
    exchange = exchange_audio(server.url, pcm, api_key=KEY)
    assert exchange.end_marker and len(exchange.sentences()) >= 3  # not one sentence of 50 s
    said = " ".join(transcripts[path] for path in paths)
    assert word_error_rate([f"{said} {said}"], [exchange.transcript]) < WER_BOUND


# --- Through the asrx client -----------------------------------------------------


def asrx_transcribe(server, path, *options):
    # Unpaced, the server decodes after the audio is all sent: on a busy machine
    # that can take longer than the default wait for the end marker.
    return run_asrx("transcribe", "--url", server.url, "--speed", "0", "--final-timeout", "60",
                    *options, path, text=True, env=subprocess_env(ASRX_API_KEY=KEY))


def finals(json_lines: str) -> list:
    events = [json.loads(line) for line in json_lines.splitlines() if line.strip()]
    return [event["text"] for event in events if event["type"] == "final"]


def test_asrx_transcribe_prints_what_was_said(server):
    result = asrx_transcribe(server, GOFORWARD, "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOFORWARD_TEXT


def test_asrx_transcribe_json_on_librivox(server):
    transcripts = librivox_transcripts()
    paths = sorted(transcripts)
    results = in_parallel(lambda path: asrx_transcribe(server, path, "--json", "-q"), paths)
    hypotheses = []
    for path, result in zip(paths, results):
        assert result.returncode == 0, result.stderr
        texts = finals(result.stdout)
        assert len(texts) == 1, texts
        assert recognised_words(path) in texts[0], path.name
        hypotheses.append(texts[0])
    assert word_error_rate([transcripts[p] for p in paths], hypotheses) < WER_BOUND


# --- The service's own documented example client ---------------------------------


def seed_client_source(url: str, api_key: str, audio: Path) -> str:
    """The "Stream from file" example of the service's documentation, as written there."""
    source = DOCUMENTED_CLIENT.read_text(encoding="utf-8")
    for documented, ours in (("wss://api.iapp.co.th/asrx", url), ("YOUR APIKEY", api_key),
                             ("audios/male.pcm", str(audio))):
        assert documented in source, f"the documented client no longer says {documented!r}"
        source = source.replace(documented, ours)
    return source


@pytest.mark.skipif(not SEED_PYTHON.exists(),
                    reason="no .venv-seed (make test builds it: websockets<14 colorama)")
def test_the_documented_example_client_gets_the_transcript(server, tmp_path):
    client = tmp_path / "documented_client.py"
    client.write_text(seed_client_source(server.url, KEY, GOFORWARD))
    result = subprocess.run([str(SEED_PYTHON), str(client)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    # It redraws one line with \r, the end marker's text too (it waits for a
    # "Confirm Close Connection" instead): the text drawn before it is the sentence.
    shown = re.split(r"[\r\n]", result.stdout)
    marker = next(i for i, text in enumerate(shown) if text.startswith("end_of_process"))
    assert shown[marker - 1] == GOFORWARD_TEXT
    assert "Connection closed gracfully" in result.stdout
