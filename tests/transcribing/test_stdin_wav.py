"""WAV streams on stdin that end early or claim what no audio is: exit 3, as files do."""

import struct

import pytest

from tests.support.audio import noise
from tests.support.run import run_transcribe
from tests.support.scripted import Script, sentence


def wav_header(rate=16000, channels=1, bits=16, tag=1, data_size=None, samples=0):
    """A RIFF/WAVE header; data_size None declares exactly `samples` frames."""
    frame = channels * bits // 8
    size = samples * frame if data_size is None else data_size
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * frame & 0xFFFFFFFF, frame & 0xFFFF,
                      bits)
    return (b"RIFF" + struct.pack("<I", (36 + size) & 0xFFFFFFFF) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size))


def test_a_stream_cut_short_is_transcribed_then_exits_3(make_server):
    server = make_server(Script(timed=[(0.5, sentence("what arrived"))]))
    samples = noise(2.0)
    result = run_transcribe(server, "-",
                            input=wav_header(samples=len(samples)) + samples[:16000].tobytes())
    assert result.exit_code == 3
    assert result.stdout == "what arrived\n"
    assert result.stderr == "asrx: error: stdin: truncated: 1.00 s of 2.00 s could be read\n"
    assert server.record.seconds == 1.0
    assert server.record.end_of_stream is not None


@pytest.mark.parametrize("data_size", [32000, 0])  # a size declared, or left open as arecord does
def test_a_header_with_no_data_exits_3(server, data_size):
    result = run_transcribe(server, "-", input=wav_header(data_size=data_size))
    assert (result.exit_code, result.stdout) == (3, "")
    expected = ("truncated: 0.00 s of 1.00 s could be read" if data_size
                else "no audio (the stream ends before its first sample)")
    assert result.stderr == f"asrx: error: stdin: {expected}\n"


def test_fewer_bytes_than_a_sample_of_raw_pcm_exit_3(server):
    result = run_transcribe(server, "-", input=b"\x01")
    assert result.exit_code == 3 and "no audio" in result.stderr


@pytest.mark.parametrize("fields,message", [
    (dict(rate=4294967295), "the WAV header says 4294967295 Hz (1 to 768000 Hz are supported)"),
    (dict(channels=65535), "the WAV header says 65535 channels (1 to 64 are supported)"),
    (dict(rate=4294967295, channels=65535, bits=32), "the WAV header says 65535 channels"),
    (dict(channels=0), "the WAV header says 0 channels (1 to 64 are supported)"),
    (dict(tag=2, bits=4), "unsupported WAV encoding (format 2, 4 bits)"),
])
def test_an_absurd_header_exits_3_before_connecting(server, fields, message):
    result = run_transcribe(server, "-", input=wav_header(**fields) + b"\x00" * 4096)
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr.startswith(f"asrx: error: stdin: {message}")
    assert len(result.stderr.splitlines()) == 1
    assert server.records == []


def test_a_huge_chunk_before_the_data_is_skipped_not_kept():
    import io
    import tracemalloc

    from asrx_cli.audio.raw import ByteReader
    from asrx_cli.audio.wav import read_wav_header

    junk = 64 << 20
    header = wav_header(samples=16)
    stream = io.BytesIO(header[:12] + b"LIST" + struct.pack("<I", junk) + b"\x00" * junk
                        + header[12:])
    tracemalloc.start()
    try:
        parsed = read_wav_header(ByteReader(stream), "stdin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parsed.data_size == 32
    assert peak < 4 << 20
