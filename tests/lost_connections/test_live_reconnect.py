"""Live inputs (pipes, a microphone's pace) while the connection is down: read on, dropped
beyond --max-buffer, sent again at --catch-up; pings while the input pauses."""

import re
import subprocess
import time

import pytest

from tests.support.audio import noise
from tests.support.rawserver import BINARY, PING, client_frames
from tests.support.run import run_cli, start_asrx
from tests.support.scripted import Script
from tests.support.speech import (
    BYTES_PER_SECOND,
)
from tests.support.tcp_proxy import Fault, Proxy


def test_a_live_input_read_while_down_drops_the_oldest_beyond_max_buffer(make_server):
    pcm = noise(12.0, seed=5).tobytes()
    server = make_server([Script(), Script()])
    # Down for over 3 s: read on at real time, the input holds more than --max-buffer.
    with Proxy(server.port, [Fault(2.0, "close", refuse_for=3.0)]) as proxy:
        result = run_cli(["transcribe", "--url", proxy.url(), "-", "--speed", "1",
                          "--max-buffer", "1", "--retries", "9", "--retry-delay", "0.2"], input=pcm)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "dropped" in line]
    assert len(lines) == 1, result.stderr
    [line] = lines
    dropped = float(re.search(r": (\d+\.\d) s of audio dropped from", line).group(1))
    first, second = (bytes(record.wait_finished().audio) for record in server.records)
    assert first == pcm[:len(first)]
    # The second session: a replayed stretch, straight on to what the input still had, with a gap
    # between.
    start = pcm.find(second[:4096])
    assert 0 <= start <= len(first)
    length = next(i for i, (a, b) in enumerate(zip(second, pcm[start:])) if a != b)
    rest = second[length:]
    assert rest and pcm.endswith(rest)
    gap = len(pcm) - start - length - len(rest)
    assert gap / BYTES_PER_SECOND == pytest.approx(dropped, abs=0.05) and dropped > 2


def second_session_resumes_whole(pcm: bytes, server):
    """The second session's record, once it is known to start within what the first sent and to
    go on to the end of the input, nothing skipped."""
    first, second = (record.wait_finished() for record in server.records)
    start = pcm.find(bytes(second.audio[:4096]))
    assert 0 <= start <= len(first.audio) and bytes(second.audio) == pcm[start:]
    return second


def test_a_pipe_faster_than_real_time_waits_while_down_instead_of_losing_audio(make_server):
    # `cat talk.raw | asrx transcribe -`: the connection drops with most of the input unread.
    # Read on at real time, not at the pipe's speed, none of it overflows --max-buffer; and a
    # pipe that ran ahead is not live: no backlog to send at --catch-up, the rest goes unpaced.
    pcm = noise(60.0, seed=6).tobytes()
    server = make_server([Script(), Script()])
    with Proxy(server.port, [Fault(2.0, "close")]) as proxy:
        result = run_cli(["transcribe", "--url", proxy.url(), "-", "--max-buffer", "5",
                          "--retries", "9", "--retry-delay", "0.2"], input=pcm)
    assert result.exit_code == 0, result.stderr
    assert "dropped" not in result.stderr
    second = second_session_resumes_whole(pcm, server)
    assert second.arrivals[-1] - second.arrivals[0] < 10  # 58 s of audio; at --catch-up 2, 29 s


def test_a_live_input_s_backlog_goes_out_at_catch_up_speed(make_server):
    # A producer at real time (arecord, say): what it made while the connection was down goes out
    # at --catch-up times real time, not in one burst, and nothing is lost.
    pcm = noise(8.0, seed=7).tobytes()
    server = make_server([Script(), Script()])
    with Proxy(server.port, [Fault(2.0, "close", refuse_for=1.5)]) as proxy:
        process = start_asrx("transcribe", "--url", proxy.url(), "-", "--retry-delay", "0.1",
                             "--retries", "9", stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        started = time.monotonic()
        for offset in range(0, len(pcm), 1024):  # at real time, on an absolute schedule
            time.sleep(max(0.0, started + offset / BYTES_PER_SECOND - time.monotonic()))
            process.stdin.write(pcm[offset:offset + 1024])
            process.stdin.flush()
        process.stdin.close()
        stderr = process.stderr.read().decode()
        assert process.wait(30) == 0, stderr
    assert "dropped" not in stderr
    second = second_session_resumes_whole(pcm, server)
    # The backlog (the replayed stretch and the 1.5 s or more while down) comes at about twice
    # real time: its first second of audio takes a good part of a second, not a burst.
    first_second = second.arrivals[BYTES_PER_SECOND // 1024] - second.arrivals[0]
    assert 0.35 <= first_second <= 0.75


def counting_opcodes(opcodes: list):
    """A raw server that accepts and records the opcode of each frame the client sends."""
    def handle(server, conn):
        server.upgrade(conn)
        buffer = b""
        while not server.stopping.is_set():
            data = conn.recv(65536)
            if not data:
                return
            buffer += data
            end = 0
            for opcode, start, length, _ in client_frames(buffer):
                opcodes.append(opcode)
                end = start + length
            buffer = buffer[end:]
    return handle


def test_a_paused_live_input_keeps_the_connection_alive_with_pings(raw_server):
    opcodes = []
    server = raw_server(counting_opcodes(opcodes))
    process = start_asrx("transcribe", "--url", server.url(), "-", stdin=subprocess.PIPE)
    try:
        process.stdin.write(bytes(BYTES_PER_SECOND))
        process.stdin.flush()
        deadline = time.monotonic() + 20
        while PING not in opcodes and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.kill()
        process.wait()
    assert BINARY in opcodes and PING in opcodes
    assert opcodes.index(PING) > opcodes.index(BINARY)  # after the audio, while the pipe pauses
