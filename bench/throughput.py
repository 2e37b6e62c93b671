"""Figure 3: unpaced throughput, against the slowest stage of the pipeline measured alone."""

import collections
import json
import time
from pathlib import Path

import numpy as np
import soundfile
import websocket

from asrx_cli.audio.convert import Converter
from asrx_cli.audio.source import FILE_BLOCK_SECONDS
from asrx_cli.wire import API_KEY_HEADER, BYTES_PER_SECOND, END_OF_STREAM, FRAME_BYTES
from bench import clients
from bench.report import FigureResult, Row, paired, ratio, times

FRACTION_GOAL, CPU_SAMPLE_SECONDS, FLAC_RATE = 0.8, 0.02, 44100
CLIENTS = ("asrx", "baseline", "asrx-flac")
STAGE_NAMES = {"read": "reading the file", "send": "sending to the sink", "decode": "decoding",
               "resample": "resampling"}


def read_frames(path: str) -> float:
    with open(path, "rb") as audio:
        return sum(map(len, iter(lambda: audio.read(FRAME_BYTES), b""))) / BYTES_PER_SECOND


def decode(path: str) -> float:
    with soundfile.SoundFile(path) as sound:
        block = int(sound.samplerate * FILE_BLOCK_SECONDS)  # as asrx reads files
        return sum(map(len, sound.blocks(block, dtype="float32"))) / sound.samplerate


def resample(blocks: list[np.ndarray]) -> float:
    """asrx's own conversion (soxr, then s16) of mono blocks."""
    converter = Converter(FLAC_RATE)
    for block in blocks:
        converter.convert(block)
    converter.convert(np.zeros(0, np.float32), last=True)
    return sum(map(len, blocks)) / FLAC_RATE


def send(frames: list[bytes], sink: clients.SinkProcess, tag: str) -> float:
    """websocket-client alone, sending prebuilt frames; the sink's stamps give its throughput."""
    ws = websocket.create_connection(sink.url(tag), header={API_KEY_HEADER: clients.API_KEY})
    for frame in frames:
        ws.send_binary(frame)
    ws.send(json.dumps(END_OF_STREAM))
    ws.recv()  # the end marker
    ws.close()
    return sink_throughput(sink.record(tag))


def sink_throughput(record: dict) -> float:
    span = record["last_frame"] - record["first_frame"]
    return (record["bytes"] - record["bytes"] / record["frames"]) / BYTES_PER_SECOND / span


def client_run(sink: clients.SinkProcess, client: str, audio: str, tag: str,
               timeout: float) -> dict:
    """One unpaced run: throughput, and the cores client and sink kept busy while frames flowed."""
    sink_before = clients.cpu_seconds(sink.process.pid)
    run, record = sink.stream(client, audio, tag, timeout, speed=0,
                              sample_cpu_every=CPU_SAMPLE_SECONDS)
    span = record["last_frame"] - record["first_frame"]
    sink_cpu = clients.cpu_seconds(sink.process.pid) - sink_before  # idle but for frames
    return {"throughput": sink_throughput(record), "sink_cores": sink_cpu / span,
            "client_cores": run.cpu_between(record["first_frame"], record["last_frame"]) / span}


def run(options, workdir: Path) -> FigureResult:
    pcm = clients.audio_file(workdir / "throughput.raw", options.pcm_minutes * 60)
    flac = clients.audio_file(workdir / "throughput.flac", options.flac_minutes * 60, FLAC_RATE, 2)
    timeout = 60 + max(options.pcm_minutes, options.flac_minutes) * 3  # at least 20× real time
    data = Path(pcm).read_bytes()
    frames = [data[start:start + FRAME_BYTES] for start in range(0, len(data), FRAME_BYTES)]
    mono = [block.mean(axis=1, dtype=np.float32) for block
            in soundfile.blocks(flac, int(FLAC_RATE * FILE_BLOCK_SECONDS), dtype="float32")]
    stages_alone = {"read": (read_frames, pcm), "decode": (decode, flac),
                    "resample": (resample, mono)}
    tries = collections.defaultdict(list)
    with clients.SinkProcess() as sink:
        # Alternating, all meet the machine's same moments; the best counts, not a burst elsewhere.
        for index in range(options.repeats):
            for name in CLIENTS:
                audio = flac if name == "asrx-flac" else pcm
                tries[name].append(client_run(sink, name, audio, f"{name}-{index}", timeout))
            tries["send"].append(send(frames, sink, f"send-{index}"))
            for stage, (work, audio) in stages_alone.items():
                started = time.perf_counter()  # work() returns the audio seconds it did
                tries[stage].append(work(audio) / (time.perf_counter() - started))
    results = {name: max(tries[name], key=lambda r: r["throughput"]) for name in CLIENTS}
    results["stages"] = {name: max(tries[name]) for name in STAGE_NAMES}
    return FigureResult("throughput", rows(results), notes(results, options), results)


def rows(results: dict) -> list[Row]:
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


def notes(results: dict, options) -> list[str]:
    stages = ", ".join(f"{STAGE_NAMES[name]} {times(value)}"
                       for name, value in results["stages"].items())
    cores = "; ".join(f"{name} {results[name]['client_cores']:.2f} "
                      f"(sink {results[name]['sink_cores']:.2f})" for name in CLIENTS)
    return [f"Throughput: {options.pcm_minutes:g} min of 16 kHz PCM and {options.flac_minutes:g} "
            f"min of 44.1 kHz stereo FLAC, best of {options.repeats} runs each, stages too. "
            f"Stages alone, in audio s per wall s: {stages}. Cores busy during the best runs: "
            f"{cores}. The baseline cannot read FLAC: it would send the file's bytes."]
