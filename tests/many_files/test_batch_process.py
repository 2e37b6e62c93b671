"""Batches run by the installed `asrx`: Ctrl-C, once and twice, and the progress bar."""

import os
import re
import signal
import socket
import subprocess
import time

import pytest

from tests.support.batch_files import HEARD, files_in, good
from tests.support.run import ASRX, run_transcribe, start_asrx, subprocess_env, wait_for
from tests.support.scripted import Script, new_sentence, sentence
from tests.support.terminal import run_on_terminal

pytestmark = pytest.mark.skipif(not os.path.exists(ASRX), reason=f"asrx is not installed at {ASRX}")


@pytest.fixture
def folder(tmp_path):
    for index in range(6):
        good(tmp_path, f"calls/{index // 3}/{index}.wav", 1.5 + index / 4, index)
    return tmp_path / "calls"


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_then_a_rerun_gives_what_one_uninterrupted_run_gives(make_server, folder,
                                                                              tmp_path, signum,
                                                                              status):
    server = make_server(HEARD)
    out = tmp_path / "out"
    process = start_asrx("transcribe", "--url", server.url, "--jobs", "2", "--speed", "2",
                         "--output-dir", out, folder)
    wait_for(lambda: len(server.records) >= 3 and server.records[2].seconds > 0.3)
    process.send_signal(signum)
    _, err = process.communicate(timeout=15)
    assert process.returncode == status
    assert b"Traceback" not in err
    summary = err.decode().strip().splitlines()[-1]
    assert summary.startswith("asrx: 2 transcribed, ") and "interrupted" in summary
    left = files_in(out)
    assert any(name.endswith(".partial") for name in left)
    unfinished = 6 - sum(1 for name in left if name.endswith(".txt"))

    sessions = len(server.records)
    rerun = run_transcribe(server, "--jobs", "2", "--speed", "0", "--output-dir", out, folder)
    assert rerun.exit_code == 0
    assert rerun.stderr == f"asrx: {unfinished} transcribed, {6 - unfinished} already done\n"
    assert len(server.records) == sessions + unfinished
    whole = tmp_path / "whole"
    assert run_transcribe(server, "--jobs", "2", "--speed", "0", "--output-dir", whole,
                          folder).exit_code == 0
    # A file interrupted after its first sentence goes on after it: this server, which only
    # counts what it hears, hears less, and says so; the rest is as one run writes it.
    assert (sorted(files_in(out)) == sorted(files_in(whole))
            == [f"{i // 3}/{i}.txt" for i in range(6)])
    for name, text in files_in(out).items():
        assert (text == files_in(whole)[name]
                or re.fullmatch(r"listening\nlistening\nheard [\d.]+ s\n", text))


def test_second_ctrl_c_exits_at_once_and_nothing_incomplete_looks_complete(make_server, folder,
                                                                           tmp_path):
    # No end marker ever: without the second Ctrl-C the sessions would wait a minute.
    server = make_server(Script(timed=[(0.2, sentence("kept"))], at_end=[new_sentence("more")],
                                end_marker=None))
    out = tmp_path / "out"
    process = start_asrx("transcribe", "--url", server.url, "--jobs", "2", "--final-timeout", "60",
                         "--output-dir", out, folder)
    wait_for(lambda: server.open_sessions == 2 and all(r.seconds > 0.3 for r in server.records))
    process.send_signal(signal.SIGINT)
    wait_for(lambda: all(r.end_of_stream for r in server.records))
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=5)  # far less than the final timeout
    assert process.returncode == 130
    assert (err.decode().strip().splitlines()[-1]
            == "asrx: 0 transcribed, 2 interrupted, 4 not started")
    # The sentence still open when the second Ctrl-C came is kept too, as a single run keeps it.
    left = {name: text for name, text in files_in(out).items() if not name.endswith(".resume")}
    assert left == {"0/0.txt.partial": "kept\nmore\n", "0/1.txt.partial": "kept\nmore\n"}


def test_second_ctrl_c_leaves_a_worker_stuck_in_the_handshake(folder, tmp_path):
    # A server that takes the TCP connection and never answers the WebSocket handshake.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"ws://127.0.0.1:{silent.getsockname()[1]}/asrx"
        process = start_asrx("transcribe", "--url", url, "--connect-timeout", "60",
                             "--output-dir", tmp_path / "out", folder)
        time.sleep(1.0)  # started, and waiting in the handshake
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 130
    assert err.decode().strip().splitlines()[-1] == "asrx: interrupted"
    assert files_in(tmp_path / "out") == {}


def test_a_batch_piped_into_head_ends_quietly_with_141(make_server, folder):
    server = make_server(HEARD)
    result = subprocess.run(
        ["bash", "-c", f'"{ASRX}" transcribe --url {server.url} --speed 4 "{folder}" | head -1; '
                       'echo "asrx: ${PIPESTATUS[0]}" >&2'],
        env=subprocess_env(), capture_output=True, timeout=30)
    assert result.stdout == f"{folder}/0/0.wav: listening\n".encode()
    assert result.stderr == b"asrx: 141\n"  # no summary, nothing else
    assert len(server.records) < 6  # the files after the closed pipe were not started


def test_one_progress_bar_for_the_whole_batch_on_a_terminal(make_server, tmp_path):
    server = make_server(HEARD)
    paths = [good(tmp_path, "a.wav", 1.0, 1), good(tmp_path, "b.wav", 1.0, 2)]
    process, shown = run_on_terminal(server, "stderr", "--jobs", "2", "--speed", "4",
                                     "--output-dir", tmp_path / "out", *paths)
    assert "2/2 files" in shown and "%|" in shown and "/2 s" in shown
    assert shown.strip().splitlines()[-1].endswith("asrx: 2 transcribed")
    assert process.stdout.read() == b""
