"""Figure 3: unpaced throughput, against the slowest stage of the pipeline measured alone.

Throughput is audio seconds per wall second between the first and the last
frame's arrival at the sink (the connection and start-up are not part of
it). Every pipeline and stage is run several times and the best run counts,
the same rule for all, so that a burst of load from elsewhere on a shared
machine does not decide the figure.
"""

import math
from pathlib import Path
from typing import Dict, List

import inputs
import machine
import processes
import report
import stages
from report import FigureResult, Row

BYTES_PER_SECOND = 32000
FRACTION_GOAL = 0.8


CPU_SAMPLE_SECONDS = 0.02


def sink_throughput(record: dict) -> float:
    """Audio seconds per wall second from the first to the last frame's arrival."""
    span = record["last_frame"] - record["first_frame"]
    return (record["bytes"] - record["bytes"] / record["frames"]) / BYTES_PER_SECOND / span


def client_run(sink: processes.SinkProcess, command_for, tag: str, timeout: float) -> dict:
    """One unpaced run: throughput, and the CPU that client and sink spent while frames flowed."""
    client = processes.Client(command_for(sink.url(tag)), sample_cpu_every=CPU_SAMPLE_SECONDS,
                              also_watch=(sink.process.pid,))
    run_ = client.finish(timeout)
    record = sink.record(tag)
    client_cpu, sink_cpu = processes.cpu_between(run_.cpu_samples, record["first_frame"], record["last_frame"])
    streamed = record["last_frame"] - record["first_frame"]
    return {"throughput": sink_throughput(record), "client_cores": client_cpu / streamed,
            "sink_cores": sink_cpu / streamed}


def best_run(runs: List[dict]) -> dict:
    return max(runs, key=lambda r: r["throughput"])


def send_stage(sink: processes.SinkProcess, frames: List[bytes], tag: str) -> float:
    stages.send(frames, sink.url(tag), processes.API_KEY)
    return sink_throughput(sink.record(tag))


def measure_pcm(sink, pcm: str, repeats: int, timeout: float) -> Dict[str, dict]:
    frames = stages.pcm_frames(pcm)
    runs = {"asrx": [], "baseline": []}
    send = []
    for index in range(repeats):  # alternated, so that all meet the same moments of the machine
        runs["asrx"].append(client_run(sink, lambda url: processes.asrx_command(pcm, url, 0),
                                       f"asrx-pcm-{index}", timeout))
        runs["baseline"].append(client_run(sink, lambda url: processes.baseline_command(pcm, url, sleep=False),
                                           f"baseline-pcm-{index}", timeout))
        send.append(send_stage(sink, frames, f"send-{index}"))
    del frames
    return {"asrx": best_run(runs["asrx"]), "baseline": best_run(runs["baseline"]),
            "stages": {"send": max(send), "read": stages.best_of(repeats, lambda: stages.read_frames(pcm))}}


def measure_flac(sink, flac: str, rate: int, repeats: int, timeout: float) -> Dict[str, dict]:
    runs = [client_run(sink, lambda url: processes.asrx_command(flac, url, 0), f"asrx-flac-{index}", timeout)
            for index in range(repeats)]
    blocks = stages.mono_blocks(flac)
    return {"asrx": best_run(runs),
            "stages": {"decode": stages.best_of(repeats, lambda: stages.decode(flac)),
                       "resample": stages.best_of(repeats, lambda: stages.resample(blocks, rate))}}


def run(workdir: Path, pcm_minutes: float, flac_minutes: float, repeats: int) -> FigureResult:
    pcm = str(inputs.write_raw(workdir / "throughput.raw", pcm_minutes * 60))
    flac_rate = 44100
    flac = str(inputs.write_sound_file(workdir / "throughput.flac", flac_minutes * 60, flac_rate, 2))
    timeout = 60 + max(pcm_minutes, flac_minutes) * 60 / 20  # at least 20× real time
    with processes.SinkProcess() as sink:
        pcm_results = measure_pcm(sink, pcm, repeats, timeout)
        flac_results = measure_flac(sink, flac, flac_rate, repeats, timeout)
    flac_results["stages"]["send"] = pcm_results["stages"]["send"]  # the same 16 kHz frames go out
    results = {"pcm": pcm_results, "flac": flac_results, "repeats": repeats,
               "pcm_minutes": pcm_minutes, "flac_minutes": flac_minutes}
    return FigureResult("throughput", rows(results), notes(results), results)


def slowest(stage_results: Dict[str, float]) -> str:
    return min(stage_results, key=stage_results.get)


STAGE_NAMES = {"read": "reading the file", "send": "sending to the sink", "decode": "decoding",
               "resample": "resampling"}


def rows(results: dict) -> List[Row]:
    pcm, flac = results["pcm"], results["flac"]
    pcm_stage, flac_stage = slowest(pcm["stages"]), slowest(flac["stages"])
    pcm_limit, flac_limit = pcm["stages"][pcm_stage], flac["stages"][flac_stage]
    pcm_fraction = pcm["asrx"]["throughput"] / pcm_limit
    baseline_fraction = pcm["baseline"]["throughput"] / pcm_limit
    flac_fraction = flac["asrx"]["throughput"] / flac_limit
    return [
        Row("3. Unpaced throughput, 16 kHz PCM (audio s per wall s)", report.times(pcm["asrx"]["throughput"]),
            report.times(pcm["baseline"]["throughput"]),
            report.ratio(pcm["asrx"]["throughput"], pcm["baseline"]["throughput"])),
        Row(f"3. 16 kHz PCM: slowest stage alone ({STAGE_NAMES[pcm_stage]}); pipeline ÷ that stage",
            f"{report.times(pcm_limit)}; {pcm_fraction:.2f}",
            f"{report.times(pcm_limit)}; {baseline_fraction:.2f}",
            report.ratio(pcm_fraction, baseline_fraction), "≥ 0.8", pcm_fraction >= FRACTION_GOAL,
            why_short(pcm, pcm_stage)),
        Row("3. Unpaced throughput, 44.1 kHz stereo FLAC (decode + resample)",
            report.times(flac["asrx"]["throughput"])),
        Row(f"3. FLAC: slowest stage alone ({STAGE_NAMES[flac_stage]}); pipeline ÷ that stage",
            f"{report.times(flac_limit)}; {flac_fraction:.2f}", goal="≥ 0.8", met=flac_fraction >= FRACTION_GOAL,
            why=why_short(flac, flac_stage)),
    ]


def serial_throughput(stage_results: Dict[str, float]) -> float:
    """The stages run one after another: 1 ÷ the sum of 1 ÷ each."""
    return 1 / sum(1 / value for value in stage_results.values())


def cpu_ceiling(run_: dict) -> float:
    """The most throughput this machine's cores allow, from the CPU client and sink spent per audio second."""
    cores_used = run_["client_cores"] + run_["sink_cores"]
    return machine.usable_cores() * run_["throughput"] / cores_used if cores_used else math.nan


FRAMES_PER_AUDIO_SECOND = BYTES_PER_SECOND / stages.FRAME_BYTES


def why_short(results: dict, stage: str) -> str:
    """The measured reason a pipeline falls short of its slowest stage."""
    best, limit, cores = results["asrx"], results["stages"][stage], machine.usable_cores()
    text = (f"asrx reached {report.times(best['throughput'])} using {best['client_cores']:.2f} cores and the "
            f"sink {best['sink_cores']:.2f}, of {cores}")
    if best["client_cores"] + best["sink_cores"] >= 0.9 * cores:
        ceiling = cpu_ceiling(best)
        return text + (f": the cores were full. The CPU client and sink spend per audio second allows at most "
                       f"{report.times(ceiling)} here ({ceiling / limit:.2f} of the stage alone)")
    if stage == "send":
        extra = (1 / best["throughput"] - 1 / limit) / FRAMES_PER_AUDIO_SECOND
        return text + (f": one core, busy, so asrx's own work per frame decides: {extra * 1e6:.1f} µs more than "
                       f"websocket-client's send alone ({1e6 / limit / FRAMES_PER_AUDIO_SECOND:.1f} µs a frame)")
    if best["client_cores"] < 1.1:
        serial = serial_throughput(results["stages"])
        return text + (f": asrx decodes, converts and sends in one thread, so the stages take turns and their "
                       f"times add up; one after another they give {report.times(serial)}")
    return text + ": the stages overlap in several threads, but not fully"


def notes(results: dict) -> List[str]:
    pcm, flac = results["pcm"], results["flac"]
    stage_list = ", ".join(f"{STAGE_NAMES[name]} {report.times(value)}"
                           for kind in (pcm, flac) for name, value in kind["stages"].items()
                           if kind is pcm or name != "send")
    a_pcm, a_flac, b_pcm = pcm["asrx"], flac["asrx"], pcm["baseline"]
    return [
        f"Throughput: {results['pcm_minutes']:g} min of 16 kHz PCM and {results['flac_minutes']:g} min of "
        f"44.1 kHz stereo FLAC, generated; best of {results['repeats']} runs each, stages too. Stages alone, "
        f"in audio s per wall s: {stage_list}. During the best runs, cores busy: asrx {a_pcm['client_cores']:.2f} "
        f"(sink {a_pcm['sink_cores']:.2f}) on PCM and {a_flac['client_cores']:.2f} (sink "
        f"{a_flac['sink_cores']:.2f}) on FLAC, the baseline {b_pcm['client_cores']:.2f} (sink "
        f"{b_pcm['sink_cores']:.2f}). The baseline cannot read FLAC: it would send the file's bytes.",
    ]
