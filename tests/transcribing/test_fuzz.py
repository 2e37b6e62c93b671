"""Fuzzing what the client parses from untrusted input: the server's frames, WAV headers on stdin.

A bounded number of examples keeps the suite fast; a failure prints the
smallest input Hypothesis found.
"""

import json
import os
import struct
import threading
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asrx_cli.audio.stdin import open_stdin
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError
from asrx_cli.transcript.events import EndOfProcess, Final, Ignored, Partial, Transcript
from asrx_cli.wire import END_MARKERS
from tests.support.collector import no_garbage_collection

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the server's frames -------------------------------------------------------------------

STATES = ["Sentence", "NewSentence", "New sentence", " sentence ", "SENTENCE", "Thinking", ""]
texts = st.one_of(st.text(max_size=30), st.sampled_from(sorted(END_MARKERS)), st.just("  "),
                  st.just("\ud800 lone surrogate"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=12,
)
messages = st.fixed_dictionaries(
    {},
    optional={"type": st.one_of(st.just("realtime"), json_values),
              "state": st.one_of(st.sampled_from(STATES), json_values),
              "text": st.one_of(texts, json_values)},
)
frames = st.one_of(
    messages.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=50),
    st.binary(max_size=50),
    st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),
)


@FUZZ
@given(st.lists(frames, max_size=30))
def test_any_frames_give_well_formed_events(frame_list):
    with no_garbage_collection():
        check_events(frame_list)


def check_events(frame_list):
    transcript = Transcript()
    finals = 0
    for position, frame in enumerate(frame_list):
        events = transcript.feed(frame, offset=float(position))
        assert isinstance(events, list)
        for event in events:
            assert isinstance(event, (Partial, Final, EndOfProcess, Ignored))
            if isinstance(event, EndOfProcess):
                assert event.marker in END_MARKERS
            # a partial may be "": the server took its words back
            if isinstance(event, (Partial, Final)):
                assert (event.text == event.text.strip()
                        and (event.text or isinstance(event, Partial)))
                event.text.encode("utf-8")  # what the renderers write must be writable
                assert event.sentence == finals
            if isinstance(event, Final):
                assert event.start <= event.end
                finals += 1
    for event in transcript.finish(float(len(frame_list))):
        assert isinstance(event, Final) and event.sentence == finals


# --- WAV headers on stdin -------------------------------------------------------------------

u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
fmt_bodies = st.builds(
    lambda tag, channels, rate, bits, extra: (
        struct.pack("<HHIIHH", tag, channels, rate, 0, 0, bits) + extra),
    st.one_of(st.sampled_from([1, 3, 0xFFFE]), u16),
    st.one_of(st.integers(0, 3), st.just(64), st.just(65), u16),
    st.one_of(st.sampled_from([8000, 16000, 44100, 768000, 768001]), st.integers(0, 20), u32),
    st.one_of(st.sampled_from([8, 16, 24, 32, 64]), u16),
    st.binary(max_size=26),
)


def chunk(chunk_id: bytes, body: bytes, size=None) -> bytes:
    return chunk_id + struct.pack("<I", len(body) if size is None else size) + body


chunks = st.one_of(
    fmt_bodies.map(lambda body: chunk(b"fmt ", body)),
    st.tuples(fmt_bodies, u32).map(lambda pair: chunk(b"fmt ", pair[0], pair[1])),
    st.tuples(st.sampled_from([b"LIST", b"fact", b"junk"]), st.binary(max_size=20), st.none() | u32)
      .map(lambda parts: chunk(*parts)),
    st.tuples(st.binary(max_size=64),
              st.sampled_from([0, 1, 2, 1000, 0x7FFFFFFF, 0xFFFFFFFF]) | u32)
      .map(lambda pair: chunk(b"data", pair[0], pair[1])),
)
wav_streams = st.tuples(u32, st.lists(chunks, max_size=4), st.binary(max_size=512),
                        st.integers(0, 600)).map(
    lambda parts: (b"RIFF" + struct.pack("<I", parts[0]) + b"WAVE" + b"".join(parts[1])
                   + parts[2])[:12 + parts[3]]
)


@FUZZ
@given(st.one_of(wav_streams, st.binary(max_size=64).map(lambda tail: b"RIFF\0\0\0\0WAVE" + tail)))
def test_any_wav_header_on_stdin_gives_audio_or_an_audio_error(data):
    # a pipe, as stdin is: read as it arrives, a block asked for at a time
    reader, writer = os.pipe()
    os.write(writer, data)  # fits in the pipe's buffer
    os.close(writer)
    tracemalloc.start()
    try:
        with os.fdopen(reader, "rb", buffering=0) as stdin:
            try:
                source = open_stdin(stdin, RawFormat(), threading.Event())
                for block in source.blocks:
                    assert isinstance(block, bytes) and len(block) % 2 == 0
            except AudioError as exc:
                assert exc.message.startswith("stdin: ") and "\n" not in exc.message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak} bytes for {len(data)} bytes of input"
