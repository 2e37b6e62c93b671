"""Figure 3: unpaced throughput, against the slowest stage of the pipeline measured alone.

Each measurement runs several times, alternating; the best run counts, so that a burst of load
elsewhere does not.
"""

import json
import time
from pathlib import Path
from typing import List

import numpy as np
import soundfile
import soxr
import websocket

import clients
import inputs
from asrx_cli.wire import API_KEY_HEADER, BYTES_PER_SECOND, END_OF_STREAM, FRAME_BYTES, SAMPLE_RATE
from report import FigureResult, Row, paired, ratio, times

FRACTION_GOAL = 0.8
CPU_SAMPLE_SECONDS = 0.02
FLAC_RATE = 44100
CLIENTS = ("asrx", "baseline", "asrx-flac")
STAGE_NAMES = {"read": "reading the file", "send": "sending to the sink", "decode": "decoding",
               "resample": "resampling"}


def read_frames(path: str) -> float:
    with open(path, "rb") as audio:
        frames = iter(lambda: audio.read(FRAME_BYTES), b"")
        return sum(len(frame) for frame in frames) / BYTES_PER_SECOND


def decode(path: str) -> float:
    with soundfile.SoundFile(path) as sound:
        blocks = sound.blocks(sound.samplerate, dtype="float32")
        return sum(len(block) for block in blocks) / sound.samplerate


def resample(blocks: List[np.ndarray]) -> float:
    resampler = soxr.ResampleStream(FLAC_RATE, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    for block in blocks:
        resampler.resample_chunk(block)
    resampler.resample_chunk(np.zeros(0, np.float32), last=True)
    return sum(map(len, blocks)) / FLAC_RATE


def send(frames: List[bytes], url: str):
    """websocket-client alone, sending prebuilt frames; the sink's stamps give its throughput."""
    ws = websocket.create_connection(url, header={API_KEY_HEADER: clients.API_KEY},
                                     enable_multithread=True)
    for frame in frames:
        ws.send(frame, websocket.ABNF.OPCODE_BINARY)
    ws.send(json.dumps(END_OF_STREAM))
    ws.recv()  # the end marker
    ws.close()


def sink_throughput(record: dict) -> float:
    span = record["last_frame"] - record["first_frame"]
    return (record["bytes"] - record["bytes"] / record["frames"]) / BYTES_PER_SECOND / span


def client_run(sink: clients.SinkProcess, client: str, audio: str, tag: str,
               timeout: float) -> dict:
    """One unpaced run: throughput, and the cores that client and sink kept busy while frames
    flowed."""
    run, record = sink.stream(client, audio, tag, timeout, speed=0,
                              sample_cpu_every=CPU_SAMPLE_SECONDS, also_watch=(sink.process.pid,))
    first, last = record["first_frame"], record["last_frame"]
    client_cpu, sink_cpu = clients.cpu_between(run.cpu_samples, first, last)
    return {"throughput": sink_throughput(record), "client_cores": client_cpu / (last - first),
            "sink_cores": sink_cpu / (last - first)}


def run(options, workdir: Path) -> FigureResult:
    pcm = inputs.write(workdir / "throughput.raw", options.pcm_minutes * 60)
    flac = inputs.write(workdir / "throughput.flac", options.flac_minutes * 60, FLAC_RATE, 2)
    timeout = 60 + max(options.pcm_minutes, options.flac_minutes) * 3  # at least 20× real time
    data = Path(pcm).read_bytes()
    frames = [data[start:start + FRAME_BYTES] for start in range(0, len(data), FRAME_BYTES)]
    with soundfile.SoundFile(flac) as sound:
        mono = [block.mean(axis=1, dtype=np.float32)
                for block in sound.blocks(FLAC_RATE, dtype="float32")]
    stages_alone = {"read": lambda: read_frames(pcm), "decode": lambda: decode(flac),
                    "resample": lambda: resample(mono)}
    runs = {name: [] for name in CLIENTS}
    stages = {name: [] for name in STAGE_NAMES}
    with clients.SinkProcess() as sink:
        for index in range(options.repeats):  # alternating: all meet the machine's same moments
            for name, tries in runs.items():
                audio = flac if name == "asrx-flac" else pcm
                tries.append(client_run(sink, name, audio, f"{name}-{index}", timeout))
            send(frames, sink.url(f"s{index}"))
            stages["send"].append(sink_throughput(sink.record(f"s{index}")))
            for stage, seconds_of_audio in stages_alone.items():
                started = time.perf_counter()
                audio_seconds = seconds_of_audio()
                stages[stage].append(audio_seconds / (time.perf_counter() - started))
    results = {name: max(tries, key=lambda r: r["throughput"]) for name, tries in runs.items()}
    results["stages"] = {name: max(values) for name, values in stages.items()}
    return FigureResult("throughput", rows(results), notes(results, options), results)


def rows(results: dict) -> List[Row]:
    stages = results["stages"]
    pcm_stage = min(("read", "send"), key=stages.get)
    flac_stage = min(("decode", "resample", "send"), key=stages.get)
    pcm_limit, flac_limit = stages[pcm_stage], stages[flac_stage]
    a, b, f = (results[name]["throughput"] for name in CLIENTS)
    return [
        paired("3. Unpaced throughput, 16 kHz PCM (audio s per wall s)", a, b, times),
        Row(f"3. 16 kHz PCM: slowest stage alone ({STAGE_NAMES[pcm_stage]}); pipeline ÷ that stage",
            f"{times(pcm_limit)}; {a / pcm_limit:.2f}", f"{times(pcm_limit)}; {b / pcm_limit:.2f}",
            ratio(a, b), "≥ 0.8", a / pcm_limit >= FRACTION_GOAL),
        Row("3. Unpaced throughput, 44.1 kHz stereo FLAC (decode + resample)", times(f)),
        Row(f"3. FLAC: slowest stage alone ({STAGE_NAMES[flac_stage]}); pipeline ÷ that stage",
            f"{times(flac_limit)}; {f / flac_limit:.2f}", goal="≥ 0.8",
            met=f / flac_limit >= FRACTION_GOAL),
    ]


def notes(results: dict, options) -> List[str]:
    stages = ", ".join(f"{STAGE_NAMES[name]} {times(value)}"
                       for name, value in results["stages"].items())
    cores = "; ".join(f"{name} {results[name]['client_cores']:.2f} "
                      f"(sink {results[name]['sink_cores']:.2f})" for name in CLIENTS)
    return [f"Throughput: {options.pcm_minutes:g} min of 16 kHz PCM and {options.flac_minutes:g} "
            f"min of 44.1 kHz stereo FLAC, best of {options.repeats} runs each, stages too. "
            f"Stages alone, in audio s per wall s: {stages}. Cores busy during the best runs: "
            f"{cores}. The baseline cannot read FLAC: it would send the file's bytes."]
