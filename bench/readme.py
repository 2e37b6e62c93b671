"""bench/README.md, written whole by each full run: the text around the table never drifts from it.

Only measured numbers go into it: the table, the reasons for missed goals
and the notes all come from the run that writes it.
"""

import argparse
import sys
from pathlib import Path
from typing import List

from report import Row

INTRO = """\
# asrx benchmarks

`make bench` measures how fast, lean and punctual `asrx transcribe` is against
real local servers, side by side with a baseline client written the way the
service's sample code is, in the same run on the same audio, and prints one
Markdown table. Benchmarks are not tests: `make test` never runs them.
"""

RUNNING = """\
## Running

    make bench                                      # every figure
    make bench BENCH_ARGS="--skip-serve"            # all but figure 8
    make bench BENCH_ARGS="--only latency --only 7" # some figures, by name or number
    make bench BENCH_ARGS="--pacing-seconds 600"    # pace ten minutes of audio instead of two

or `.venv/bin/python bench/run.py ...` with the same options. The table goes
to stdout. A run of every figure also rewrites this file; every run writes its
raw measurements to `bench/results/latest.json` (not committed). Inputs are
generated into a temporary folder and deleted afterwards (the long WAV of
figure 4 takes {long_wav_mb:.0f} MB of disk while it exists). Figure 8 needs
`asrx serve` (the `server` extra) and Debian's `pocketsphinx-testdata`;
without them it is skipped, with the reason in the table.

The machine is shared by whatever else runs on it. Before each figure the
bench waits (`--settle-seconds`) for other processes to go quiet, and the notes
say how many cores they kept busy during each figure: timings taken while that
number is high are worth repeating with `--only`.

`--client-source DIR` runs asrx from another copy of `asrx_cli` (a patched
one, say) so that a change can be measured before it is applied.
"""

FIGURES = """\
## What the figures are and how they are measured

Every time stamp is `time.monotonic()`, Linux's CLOCK_MONOTONIC, which all
processes share, so stamps taken by the bench, the sink server and the clients
compare directly. The servers are real WebSocket servers on 127.0.0.1 in
processes of their own, so their CPU never counts against the client, and
arrival times are taken by the receiving side: `asrx serve` for figure 8, and
for the others `bench/sink.py`, a sink on asyncio with just the server's half
of RFC 6455 (`wsframes.py`), which never unmasks audio it only counts (with
the `websockets` library's per-frame work, the sink rather than the client
was the slower side of an unpaced stream).

"Ratio" is asrx ÷ baseline in every row: below 1 asrx takes less (time, CPU,
memory), above 1 it takes more, or for throughput, goes faster. "—": the
figure has no baseline.

1. **Pacing** (`pacing.py`). asrx (`--speed 1`) and the baseline stream the
   same generated 16 kHz file side by side, each to its own connection of one
   sink, and beside them asrx streams the same length of 44.1 kHz stereo FLAC,
   which it decodes and resamples as it goes. The sink stamps each frame's
   arrival. Frame *n* is due (audio before it) ÷ 32000 s after frame 0; its
   lateness is its arrival minus that, both counted from frame 0's arrival
   (negative: early). The drift at the end is the last frame's lateness.
2. **Client CPU at real time** (`pacing.py`, the same runs). The client's own
   user + system time from `wait4`'s rusage, per second of audio, over the
   whole run; and, apart, the CPU rate while frames flow (the process's
   `/proc/PID/stat` times sampled every {cpu_sample:g} s, from {settle:g} s after the first
   frame to the last), which leaves start-up out.
3. **Unpaced throughput** (`throughput.py`, `stages.py`). `--speed 0` on a
   16 kHz PCM file and on a 44.1 kHz stereo FLAC file, in audio seconds per
   wall second between the first and last frame's arrival at the sink. Each
   stage of the pipeline is measured alone with the same libraries and
   settings, its input already in memory: reading the file, decoding
   (libsndfile to float32, blocks of {decode_block:g} s), resampling (soxr `HQ` to
   16 kHz) and sending (websocket-client, prebuilt 1024-byte frames, to the
   same sink). The pipeline ÷ its slowest stage shows how well the stages
   overlap. Best of several alternating runs for all, and the CPU client and
   sink spend meanwhile, from which the most this machine's cores allow.
4. **Memory** (`memory.py`, `launch.py`). Peak RSS (`ru_maxrss`) streaming a
   generated 1-minute and {memory_hours:g}-hour 16 kHz WAV at `--speed 0`. The client is
   started by a small launcher: Linux carries a process's RSS high-water mark
   across exec, so a client forked straight from the bench would report at
   least the bench's size.
5. **Result latency** (`latency.py`). While the client streams at real time,
   the sink sends a script: a sentence every {every_ms:g} ms, each with {partials} partial
   `Sentence` messages, each made final by the next sentence's `NewSentence`.
   Latency: the sink's stamp just before it sends that `NewSentence`, to the
   bench reading the sentence's line from a pipe on the client's stdout.
6. **Shutdown** (`lifecycle.py`). From the sink's stamp before it sends the
   end marker to `wait4` returning in the bench, over short runs.
7. **Start-up** (`startup.py`, `lifecycle.py`). `asrx --help` against `python
   -c pass` (medians of alternating runs; `-X importtime` names the costliest
   imports), and from the bench's stamp before it starts the client to the
   sink's stamp of the first audio frame.
8. **`asrx serve` with PocketSphinx** (`serve_capacity.py`, `loadgen.py`,
   `speech.py`). The server runs with its defaults (one engine worker per
   core). One asyncio process keeps N streams of real speech (Debian's
   pocketsphinx-testdata recordings, {silence:g} s of silence appended, one session
   per recording) going at real time, with staggered starts. End of speech is
   the end of the last 10 ms frame louder than the recording's noise floor
   + {over_floor:g} dB and its peak − {under_peak:g} dB; the final text is the session's last text
   message. Server CPU: the server's and its workers' user + system time from
   `/proc`, per audio second, with one stream. N is sustained when every
   session ends cleanly, the load generator keeps its schedule, and the time
   from end of speech to final text is within 1 s at p95; N is searched by
   doubling then bisection, starting from the cores ÷ one stream's CPU.
"""

BASELINE = """\
## The baseline

`bench/baseline.py` is the client as the service's sample code writes it,
with websocket-client: read 1024 bytes of the file, send them,
`time.sleep(0.032)`, again; a thread prints each sentence (flushed, as the
sample does) when the next one starts; end-of-stream message, wait for the end
marker, close. It reads headerless 16 kHz PCM only, so figure 3's FLAC row has
no baseline. For unpaced runs it drops the sleep (`--no-sleep`). Figure 8
measures the server, for which there is nothing to compare with.
"""

FILES = """\
## Files

| file | what it does |
|---|---|
| `run.py` | options, runs the figures, prints the table, writes this file |
| `sink.py` | the receiving ASRX server (its own process): stamps frames, answers, plays scripts |
| `wsframes.py` | the sink's WebSocket side |
| `baseline.py` | the sample-code client |
| `processes.py` | starting clients and the sink, stamping their events, CPU from `/proc` |
| `launch.py` | runs a client and reports its own peak RSS |
| `inputs.py` | generated test audio |
| `stats.py`, `report.py` | percentiles; table rows and their Markdown |
| `machine.py`, `readme.py` | the machine and its load; this file |
| `pacing.py` | figures 1-2 |
| `throughput.py`, `stages.py` | figure 3 |
| `memory.py`, `latency.py`, `lifecycle.py`, `startup.py` | figures 4, 5, 6-7, 7 |
| `serve_capacity.py`, `loadgen.py`, `speech.py` | figure 8 |
"""


def options_list(parser: argparse.ArgumentParser) -> str:
    lines = ["Options:", ""]
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        flag = ", ".join(action.option_strings)
        metavar = f" {action.metavar}" if action.metavar else (
            f" {action.dest.upper()}" if action.nargs is None and not isinstance(action.const, bool) else "")
        lines.append(f"- `{flag}{metavar}`: {action.help}")
    return "\n".join(lines) + "\n"


def missed_goals(rows: List[Row]) -> str:
    missed = [row for row in rows if row.met is False]
    if not missed:
        return "Every goal was met in this run.\n"
    return "\n".join(f"- **{row.figure}** ({row.asrx}; goal {row.goal}): {row.why.rstrip('.')}."
                     for row in missed) + "\n"


def parameters(options: argparse.Namespace) -> dict:
    """The run's settings that the text around the table quotes."""
    import latency
    import pacing
    import serve_capacity
    import speech
    import stages

    return {
        "long_wav_mb": options.memory_hours * 3600 * 32000 / 1e6, "cpu_sample": pacing.CPU_SAMPLE_SECONDS,
        "settle": pacing.SETTLE_SECONDS, "decode_block": stages.DECODE_BLOCK_SECONDS,
        "memory_hours": options.memory_hours, "every_ms": options.sentence_every * 1000,
        "partials": latency.PARTIALS, "silence": serve_capacity.TRAILING_SILENCE,
        "over_floor": speech.OVER_NOISE_FLOOR_DB, "under_peak": speech.UNDER_PEAK_DB,
    }


def invocation(arguments: List[str]) -> str:
    """How this run was started, as one would type it again."""
    repository = Path(__file__).resolve().parent.parent
    if Path(sys.executable).parent.parent == repository / ".venv":
        return "make bench" + (f' BENCH_ARGS="{" ".join(arguments)}"' if arguments else "")
    return " ".join([sys.executable, "bench/run.py", *arguments])


def write(path: Path, table: str, machine: str, notes: List[str], rows: List[Row], options: argparse.Namespace,
          arguments: List[str], parser: argparse.ArgumentParser, took: float):
    command = invocation(arguments)
    values = parameters(options)
    sections = [
        INTRO,
        RUNNING.format(**values) + "\n" + options_list(parser),
        f"## Latest results\n\n`{command}`, {took / 60:.1f} minutes, on {machine}.\n\n{table}\n",
        "### Goals missed, and why\n\n" + missed_goals(rows),
        "### Notes on this run\n\n" + "\n".join(f"- {note}" for note in notes) + "\n",
        FIGURES.format(**values),
        BASELINE,
        FILES,
    ]
    path.write_text("\n".join(sections))
