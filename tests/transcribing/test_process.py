"""The installed `asrx` as a subprocess: pipes, terminals and signals."""

import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
import soundfile

from tests.support.audio import noise, write_audio
from tests.support.run import ASRX, start_asrx, subprocess_env
from tests.support.scripted import Script, new_sentence, sentence
from tests.support.terminal import open_terminal, read_line, run_on_terminal

pytestmark = pytest.mark.skipif(not os.path.exists(ASRX), reason=f"asrx is not installed at {ASRX}")

MANY_SENTENCES = Script(
    timed=[(0.1, sentence("one")), (0.2, new_sentence("two")), (0.3, new_sentence("three")),
           (0.4, new_sentence("four"))],
    at_end=[new_sentence("after the audio")],
)


def test_live_stdin_is_transcribed_before_eof(make_server):
    server = make_server(Script(timed=[(0.2, sentence("hello")), (0.4, new_sentence("world"))]))
    process = start_asrx("transcribe", "--url", server.url, "-", stdin=subprocess.PIPE)
    process.stdin.write(noise(0.6).tobytes())
    process.stdin.flush()
    # stdin is still open: the first sentence must arrive anyway, as a pipe line.
    assert read_line(process.stdout) == b"hello\n"
    process.stdin.close()
    assert process.wait(timeout=15) == 0
    out, err = process.stdout.read(), process.stderr.read()
    assert out == b"world\n" and err == b""


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed (Debian package sox)")
@pytest.mark.parametrize("sox_format", [["-b", "16", "-e", "signed-integer"],
                                        ["-b", "32", "-e", "floating-point"]])
def test_a_wav_stream_from_sox_on_stdin(server, sox_format):
    # sox writes a WAV header with a placeholder size, as arecord does, then streams.
    sox = subprocess.Popen(["sox", "-n", "-r", "44100", "-c", "2", *sox_format, "-t", "wav", "-",
                            "synth", "1.5", "sine", "440", "gain", "-n", "-6"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    process = start_asrx("transcribe", "--url", server.url, "-", stdin=sox.stdout)
    sox.stdout.close()
    out, err = process.communicate(timeout=30)
    assert (process.returncode, err) == (0, b"")
    received = np.frombuffer(bytes(server.record.audio), dtype="<i2").astype(float)
    assert abs(len(received) - 24000) <= 4
    # A 440 Hz sine peaking at -6 dBFS: its frequency and level survive the conversion.
    spectrum = np.abs(np.fft.rfft(received[2000:18000]))
    assert np.argmax(spectrum) == 440  # bins of 1 Hz over 16000 samples
    assert np.max(np.abs(received)) / 32768 == pytest.approx(0.5, abs=0.01)


def test_closed_stdout_ends_quietly(make_server, tmp_path):
    # Paced, so that sentences come after the reader has gone, not into the pipe's buffer.
    server = make_server(Script(timed=[(0.1, sentence("one")), (0.8, new_sentence("two")),
                                       (1.2, new_sentence("three"))]))
    path = write_audio(tmp_path / "a.wav", noise(2.0), 16000)
    process = start_asrx("transcribe", "--url", server.url, path, "--speed", "2")
    assert read_line(process.stdout) == b"one\n"
    process.stdout.close()  # what `| head -1` does
    _, err = process.communicate(timeout=15)
    assert err == b""
    assert process.returncode == 141


def test_head_in_a_shell_pipeline(make_server, tmp_path):
    server = make_server(MANY_SENTENCES)
    path = write_audio(tmp_path / "a.wav", noise(2.0), 16000)
    result = subprocess.run(
        ["bash", "-c", f'"{ASRX}" transcribe --url {server.url} --speed 0 "{path}" | head -1'],
        env=subprocess_env(), capture_output=True, timeout=30)
    assert (result.stdout, result.stderr, result.returncode) == (b"one\n", b"", 0)


# SIGTERM comes from `timeout 60 asrx ...`, systemd and `docker stop`: nothing said may be lost.
@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"),
                                                  (signal.SIGTERM, 143, "terminated")])
def test_first_ctrl_c_or_sigterm_stops_the_audio_and_keeps_what_the_server_returns(
        make_server, tmp_path, signum, status, word):
    server = make_server(MANY_SENTENCES)
    path = write_audio(tmp_path / "long.wav", noise(20.0), 16000)
    saved = tmp_path / "sent.wav"
    process = start_asrx("transcribe", "--url", server.url, path, "--save-audio", saved)
    assert read_line(process.stdout) == b"one\n"
    process.send_signal(signum)
    out, err = process.communicate(timeout=15)
    assert process.returncode == status
    assert out == b"two\nthree\nfour\nafter the audio\n"
    assert err.decode().startswith(f"asrx: {word} after ")
    assert b"Traceback" not in err
    assert server.record.end_of_stream == {"data": {"status": "CloseConnection"}}
    assert server.record.seconds < 10
    assert soundfile.info(str(saved)).frames * 2 == len(server.record.audio)  # a valid WAV header


def test_second_ctrl_c_exits_at_once(make_server, tmp_path):
    server = make_server(Script(timed=[(0.1, sentence("kept")), (0.2, new_sentence("more"))],
                                end_marker=None))
    path = write_audio(tmp_path / "long.wav", noise(20.0), 16000)
    process = start_asrx("transcribe", "--url", server.url, path, "--final-timeout", "60")
    assert read_line(process.stdout) == b"kept\n"  # running, its Ctrl-C handler in place
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=5)  # far less than the 60 s final timeout
    assert process.returncode == 130
    assert out == b"more\n"  # the sentence still open is written, not lost
    assert err.decode().strip().splitlines()[-1] == "asrx: interrupted"
    assert b"Traceback" not in err


def test_terminal_shows_a_live_line_and_keeps_finished_sentences(make_server, tmp_path):
    server = make_server(Script(timed=[(0.1, sentence("hel")), (0.2, sentence("hello")),
                                       (0.3, new_sentence("wor")), (0.4, sentence("world"))]))
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    _, screen = run_on_terminal(server, "stdout", path, "--speed", "0")
    assert "\r\x1b[Khel" in screen and "\r\x1b[Khello" in screen
    assert screen.replace("\r\n", "\n").endswith("\r\x1b[Kworld\n")
    assert "\r\x1b[Khello\n" in screen.replace("\r\n", "\n")


def test_progress_bar_on_a_terminal_stderr_only(make_server, tmp_path):
    server = make_server(Script(timed=[(0.5, sentence("done"))]))
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    process, shown = run_on_terminal(server, "stderr", path, "--speed", "4")
    assert process.stdout.read() == b"done\n"
    assert "/1.0 s" in shown and "%|" in shown


def test_no_progress_bar_when_quiet(make_server, tmp_path):
    server = make_server(Script(timed=[(0.5, sentence("done"))]))
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    _, shown = run_on_terminal(server, "stderr", path, "--speed", "4", "-q")
    assert shown == ""


def test_a_terminal_on_stdin_is_refused(server):
    primary, secondary = open_terminal()
    process = start_asrx("transcribe", "--url", server.url, "-", stdin=secondary)
    os.close(secondary)
    _, err = process.communicate(timeout=15)
    os.close(primary)
    assert process.returncode == 2
    assert err == (b"asrx: error: stdin is a terminal: pipe audio into `asrx transcribe -`, "
                   b"or give a file\n")
    assert server.records == []
