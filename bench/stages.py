"""The stages of a client's pipeline, each measured alone, in audio seconds per wall second.

Each stage does what the client must do, with the same libraries and
settings asrx uses (libsndfile to float32, soxr "HQ" to 16 kHz,
websocket-client frames of 1024 bytes), with its input already in memory,
so that its time is its own.
"""

import json
import time
from typing import Callable, List

import numpy as np

FRAME_BYTES = 1024
BYTES_PER_SECOND = 32000
DECODE_BLOCK_SECONDS = 1.0
END_OF_STREAM = json.dumps({"data": {"status": "CloseConnection"}})


def best_of(repeats: int, measure: Callable[[], float]) -> float:
    """The highest of several throughputs: on a shared machine, the least disturbed run."""
    return max(measure() for _ in range(repeats))


def read_frames(path: str) -> float:
    """Reading a headerless file in frames, as both clients do."""
    started, total = time.perf_counter(), 0
    with open(path, "rb") as audio:
        while True:
            frame = audio.read(FRAME_BYTES)
            if not frame:
                break
            total += len(frame)
    return total / BYTES_PER_SECOND / (time.perf_counter() - started)


def mono_blocks(path: str) -> List[np.ndarray]:
    """The file decoded and channel-averaged, block by block: the resampler's input."""
    import soundfile

    with soundfile.SoundFile(path) as sound:
        block = int(sound.samplerate * DECODE_BLOCK_SECONDS)
        return [np.ascontiguousarray(frames.mean(axis=1, dtype=np.float32))
                for frames in sound.blocks(block, dtype="float32", always_2d=True)]


def decode(path: str) -> float:
    """libsndfile decoding to float32 frames, block by block."""
    import soundfile

    started = time.perf_counter()
    with soundfile.SoundFile(path) as sound:
        rate, block, frames = sound.samplerate, int(sound.samplerate * DECODE_BLOCK_SECONDS), 0
        while True:
            got = len(sound.read(block, dtype="float32", always_2d=True))
            if not got:
                break
            frames += got
    return frames / rate / (time.perf_counter() - started)


def resample(mono_blocks: List[np.ndarray], rate: int) -> float:
    """soxr streaming resampler to 16 kHz, on channel-averaged blocks."""
    import soxr

    resampler = soxr.ResampleStream(rate, 16000, 1, dtype="float32", quality="HQ")
    started = time.perf_counter()
    for block in mono_blocks:
        resampler.resample_chunk(block)
    resampler.resample_chunk(np.zeros(0, np.float32), last=True)
    seconds = sum(len(block) for block in mono_blocks) / rate
    return seconds / (time.perf_counter() - started)


def send(frames: List[bytes], url: str, api_key: str) -> None:
    """websocket-client sending prebuilt frames to the sink as fast as it takes them.

    The throughput is read from the sink's arrival stamps, as for the clients.
    """
    import websocket

    ws = websocket.create_connection(url, header={"apikey": api_key}, enable_multithread=True)
    try:
        for frame in frames:
            ws.send(frame, websocket.ABNF.OPCODE_BINARY)
        ws.send(END_OF_STREAM)
        ws.recv()  # the end marker
    finally:
        ws.close()


def pcm_frames(path: str) -> List[bytes]:
    with open(path, "rb") as audio:
        data = audio.read()
    return [data[start:start + FRAME_BYTES] for start in range(0, len(data), FRAME_BYTES)]
