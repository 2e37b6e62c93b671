"""Figure 3: unpaced throughput, against the slowest stage of the pipeline measured alone.

Each measurement runs several times, alternating; the best run counts, so that a burst of load elsewhere does not.
"""

import json
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import soundfile
import soxr
import websocket

import clients
import inputs
import report
from asrx_cli.wire import API_KEY_HEADER, BYTES_PER_SECOND, END_OF_STREAM, FRAME_BYTES, SAMPLE_RATE
from report import FigureResult, Row

FRACTION_GOAL = 0.8
CPU_SAMPLE_SECONDS = 0.02
FLAC_RATE = 44100
STAGE_NAMES = {"read": "reading the file", "send": "sending to the sink", "decode": "decoding",
               "resample": "resampling"}


def timed(seconds_of_audio: Callable[[], float]) -> float:
    """Audio seconds per wall second of a stage run in this process."""
    started = time.perf_counter()
    audio = seconds_of_audio()
    return audio / (time.perf_counter() - started)


def read_frames(path: str) -> float:
    with open(path, "rb") as audio:
        return sum(len(frame) for frame in iter(lambda: audio.read(FRAME_BYTES), b"")) / BYTES_PER_SECOND


def decode(path: str) -> float:
    with soundfile.SoundFile(path) as sound:
        return sum(len(block) for block in sound.blocks(sound.samplerate, dtype="float32")) / sound.samplerate


def resample(blocks: List[np.ndarray]) -> float:
    resampler = soxr.ResampleStream(FLAC_RATE, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    for block in blocks:
        resampler.resample_chunk(block)
    resampler.resample_chunk(np.zeros(0, np.float32), last=True)
    return sum(map(len, blocks)) / FLAC_RATE


def send(frames: List[bytes], url: str):
    """websocket-client alone, sending prebuilt frames; the sink's stamps give its throughput."""
    ws = websocket.create_connection(url, header={API_KEY_HEADER: clients.API_KEY}, enable_multithread=True)
    for frame in frames:
        ws.send(frame, websocket.ABNF.OPCODE_BINARY)
    ws.send(json.dumps(END_OF_STREAM))
    ws.recv()  # the end marker
    ws.close()


def sink_throughput(record: dict) -> float:
    span = record["last_frame"] - record["first_frame"]
    return (record["bytes"] - record["bytes"] / record["frames"]) / BYTES_PER_SECOND / span


def client_run(sink: clients.SinkProcess, client: str, audio: str, tag: str, timeout: float) -> dict:
    """One unpaced run: throughput, and the cores that client and sink kept busy while frames flowed."""
    command = clients.command(client, audio, sink.url(tag), speed=0)
    run = clients.Client(command, CPU_SAMPLE_SECONDS, also_watch=(sink.process.pid,)).finish(timeout)
    record = sink.record(tag)
    client_cpu, sink_cpu = clients.cpu_between(run.cpu_samples, record["first_frame"], record["last_frame"])
    span = record["last_frame"] - record["first_frame"]
    return {"throughput": sink_throughput(record), "client_cores": client_cpu / span, "sink_cores": sink_cpu / span}


def run(workdir: Path, pcm_minutes: float, flac_minutes: float, repeats: int) -> FigureResult:
    pcm = inputs.write(workdir / "throughput.raw", pcm_minutes * 60)
    flac = inputs.write(workdir / "throughput.flac", flac_minutes * 60, FLAC_RATE, 2)
    timeout = 60 + max(pcm_minutes, flac_minutes) * 3  # at least 20× real time
    runs: Dict[str, List[dict]] = {"asrx": [], "baseline": [], "asrx-flac": []}
    stages: Dict[str, List[float]] = {name: [] for name in STAGE_NAMES}
    data = Path(pcm).read_bytes()
    frames = [data[start:start + FRAME_BYTES] for start in range(0, len(data), FRAME_BYTES)]
    with soundfile.SoundFile(flac) as sound:
        mono = [block.mean(axis=1, dtype=np.float32) for block in sound.blocks(FLAC_RATE, dtype="float32")]
    with clients.SinkProcess() as sink:
        for index in range(repeats):  # alternating, so that all meet the same moments of the machine
            for name, tries in runs.items():
                tries.append(client_run(sink, name, flac if name == "asrx-flac" else pcm, f"{name}-{index}", timeout))
            send(frames, sink.url(f"s{index}"))
            stages["send"].append(sink_throughput(sink.record(f"s{index}")))
            stages["read"].append(timed(lambda: read_frames(pcm)))
            stages["decode"].append(timed(lambda: decode(flac)))
            stages["resample"].append(timed(lambda: resample(mono)))
    results = {name: max(tries, key=lambda r: r["throughput"]) for name, tries in runs.items()}
    results["stages"] = {name: max(values) for name, values in stages.items()}
    return FigureResult("throughput", rows(results), notes(results, pcm_minutes, flac_minutes, repeats), results)


def rows(results: dict) -> List[Row]:
    stages = results["stages"]
    pcm_stage = min(("read", "send"), key=stages.get)
    flac_stage = min(("decode", "resample", "send"), key=stages.get)
    pcm_limit, flac_limit = stages[pcm_stage], stages[flac_stage]
    a, b, f = (results[name]["throughput"] for name in ("asrx", "baseline", "asrx-flac"))
    return [
        Row("3. Unpaced throughput, 16 kHz PCM (audio s per wall s)", report.times(a), report.times(b),
            report.ratio(a, b)),
        Row(f"3. 16 kHz PCM: slowest stage alone ({STAGE_NAMES[pcm_stage]}); pipeline ÷ that stage",
            f"{report.times(pcm_limit)}; {a / pcm_limit:.2f}", f"{report.times(pcm_limit)}; {b / pcm_limit:.2f}",
            report.ratio(a, b), "≥ 0.8", a / pcm_limit >= FRACTION_GOAL),
        Row("3. Unpaced throughput, 44.1 kHz stereo FLAC (decode + resample)", report.times(f)),
        Row(f"3. FLAC: slowest stage alone ({STAGE_NAMES[flac_stage]}); pipeline ÷ that stage",
            f"{report.times(flac_limit)}; {f / flac_limit:.2f}", goal="≥ 0.8", met=f / flac_limit >= FRACTION_GOAL),
    ]


def notes(results: dict, pcm_minutes: float, flac_minutes: float, repeats: int) -> List[str]:
    stages = ", ".join(f"{STAGE_NAMES[name]} {report.times(value)}" for name, value in results["stages"].items())
    cores = "; ".join(f"{name} {results[name]['client_cores']:.2f} (sink {results[name]['sink_cores']:.2f})"
                      for name in ("asrx", "baseline", "asrx-flac"))
    return [f"Throughput: {pcm_minutes:g} min of 16 kHz PCM and {flac_minutes:g} min of 44.1 kHz stereo FLAC, "
            f"best of {repeats} runs each, stages too. Stages alone, in audio s per wall s: {stages}. Cores "
            f"busy during the best runs: {cores}. The baseline cannot read FLAC: it would send the file's bytes."]
