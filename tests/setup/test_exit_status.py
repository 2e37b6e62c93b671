"""Failures the README promises a plain one-line message and an exit status for."""

import os
import subprocess

import pytest

from tests.support.run import run_asrx, run_cli, run_transcribe
from tests.support.scripted import Script, sentence

FULL = "/dev/full"
needs_dev_full = pytest.mark.skipif(not os.path.exists(FULL), reason="no /dev/full on this system")


@pytest.mark.parametrize("url,reason", [
    ("ws://127.0.0.1:99999/asrx", "port out of range 0-65535"),
    ("ws://127.0.0.1:abc/asrx", "port could not be cast to integer value as 'abc'"),
])
def test_an_invalid_port_is_a_usage_error(speech_wav, url, reason):
    result = run_cli(["transcribe", "--url", url, speech_wav])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"asrx: error: invalid URL {url!r}: {reason}\n"


@needs_dev_full
def test_an_output_file_on_a_full_disk_is_a_usage_error(make_server, speech_wav):
    server = make_server(Script(timed=[(0.5, sentence("lost to a full disk"))]))
    result = run_transcribe(server, speech_wav, "--speed", "0", "-o", FULL)
    assert result.exit_code == 2
    assert result.stderr == "asrx: error: cannot write the transcript: no space left on device\n"


@needs_dev_full
def test_stdout_on_a_full_disk_is_a_usage_error(make_server, speech_wav):
    server = make_server(Script(timed=[(0.5, sentence("lost to a full disk"))]))
    with open(FULL, "w") as full:
        result = run_asrx("transcribe", "--url", server.url, "--speed", "0", speech_wav,
                          stdout=full, stderr=subprocess.PIPE, timeout=30)
    assert result.returncode == 2
    assert result.stderr == b"asrx: error: cannot write the transcript: no space left on device\n"
