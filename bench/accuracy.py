"""`asrx serve`'s accuracy against PocketSphinx's own offline decode: same run, same files.

    .venv/bin/python bench/accuracy.py [--json]

The LibriVox recordings of Debian's pocketsphinx-testdata, with the package's
transcripts, are decoded three ways:

- offline: each whole file by pocketsphinx.Decoder() with its defaults
  (start_utt, process_raw(full_utt=True), end_utt), nothing tuned to the files;
- streamed: each file in a session of its own to a real `asrx serve`, at real
  time in 1024-byte frames, then 1.5 s of silence (the speaker stops, the
  microphone stays open) and the end-of-stream message; the transcript is
  what a client following the protocol holds at the end;
- in process: the server's own Transcriber and engine on the same frames,
  which tells partial hypotheses from finals (the wire does not: a final
  equal to the last partial is not sent again), to count how often a final
  differs from the partial before it.

Streamed, it also measures the server's CPU (server and engine processes,
from /proc) per second of audio with one stream, the time from the first
frame to the first partial, and from the last frame of the recording to the
final text. The recordings are cut at the words, so these are bounds: speech
starts no earlier than the first frame and ends no later than the last.
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' recordings, transcripts and word error count

from asrx_cli.wire import BYTES_PER_SECOND, END_MARKERS, END_OF_STREAM, FRAME_BYTES, NEW_SENTENCE  # noqa: E402
from tests.speech import LIBRIVOX, librivox_transcripts, read_pcm, word_errors  # noqa: E402

TRAILING_SILENCE_BYTES = 3 * BYTES_PER_SECOND // 2
KEY = "bench-accuracy"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def unavailable():
    """Why the figure cannot run here, or None."""
    if not (LIBRIVOX / "transcription").exists():
        return f"no LibriVox recordings in {LIBRIVOX} (Debian package pocketsphinx-testdata)"
    try:
        import pocketsphinx  # noqa: F401
        import websockets  # noqa: F401
    except ImportError as exc:
        return f"`asrx serve` is not installed ({exc}); pip install '.[server]'"
    return None


def word_error_rate(references: List[str], hypotheses: List[str]) -> float:
    return sum(map(word_errors, references, hypotheses)) / sum(len(r.split()) for r in references)


# --- offline -----------------------------------------------------------------------------


def offline(recordings: List[bytes]) -> List[str]:
    import pocketsphinx

    pocketsphinx.set_loglevel("FATAL")
    decoder = pocketsphinx.Decoder(loglevel="FATAL")
    texts = []
    for pcm in recordings:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        texts.append(decoder.hyp().hypstr if decoder.hyp() else "")
    return texts


# --- streamed to a real server -----------------------------------------------------------


def tree_cpu_seconds(pid: int) -> float:
    """User + system time of a process and its descendants alive now."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except OSError:
            continue  # it ended meanwhile
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


async def stream_session(url: str, pcm: bytes) -> dict:
    """One recording at real time; the sentences as a client holds them, and when texts came."""
    from websockets.asyncio.client import connect

    audio = pcm + bytes(TRAILING_SILENCE_BYTES)
    arrivals = []  # (seconds since the first frame, state, text)
    async with connect(url, additional_headers={"apikey": KEY}, compression=None, max_size=None) as ws:
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def send():
            for offset in range(0, len(audio), FRAME_BYTES):
                await asyncio.sleep(max(0.0, started + offset / BYTES_PER_SECOND - loop.time()))
                await ws.send(audio[offset:offset + FRAME_BYTES])
            await ws.send(json.dumps(END_OF_STREAM))

        sender = asyncio.create_task(send())
        async for message in ws:
            data = json.loads(message)
            if data.get("text") in END_MARKERS:
                break
            arrivals.append((loop.time() - started, data["state"], data["text"]))
        await sender
    sentences = []
    for _, state, text in arrivals:
        if state == NEW_SENTENCE or not sentences:
            sentences.append(text)
        else:
            sentences[-1] = text
    speech_seconds = len(pcm) / BYTES_PER_SECOND
    return {"transcript": " ".join(sentences), "audio_seconds": len(audio) / BYTES_PER_SECOND,
            "first_text": arrivals[0][0] if arrivals else None,
            "final_after_speech": arrivals[-1][0] - speech_seconds if arrivals else None}


def streamed(recordings: List[bytes]) -> dict:
    from asrx_cli.server.process import ServeProcess

    with ServeProcess("--api-key", KEY, "--quiet") as server:
        sessions = []
        cpu_before = tree_cpu_seconds(server.pid)
        for pcm in recordings:
            sessions.append(asyncio.run(stream_session(server.url, pcm)))
        cpu = tree_cpu_seconds(server.pid) - cpu_before
    audio = sum(s["audio_seconds"] for s in sessions)
    return {"sessions": sessions, "cpu_seconds": cpu, "audio_seconds": audio,
            "cpu_per_audio_second": cpu / audio}


# --- partials and finals, in process -----------------------------------------------------


def finals_against_partials(recordings: List[bytes]) -> dict:
    """Each utterance's final beside the last partial before it, from the server's own code."""
    from asrx_cli.server.engines import load_engine
    from asrx_cli.server.transcriber import Transcriber

    engine = load_engine("pocketsphinx")
    pairs = []
    for pcm in recordings:
        transcriber, last_partial = Transcriber(engine.open()), {}
        audio = pcm + bytes(TRAILING_SILENCE_BYTES)
        hypotheses = []
        for offset in range(0, len(audio), FRAME_BYTES):
            hypotheses += transcriber.feed(audio[offset:offset + FRAME_BYTES])
        hypotheses += transcriber.finish()
        transcriber.close()
        for hypothesis in hypotheses:
            if not hypothesis.final:
                last_partial[hypothesis.utterance] = hypothesis.text
            else:
                pairs.append((last_partial.get(hypothesis.utterance, ""), hypothesis.text))
    differ = [(p, f) for p, f in pairs if p != f]
    contradicted = [(p, f) for p, f in differ if f.split()[:len(p.split())] != p.split()]
    return {"finals": len(pairs), "differ": len(differ), "contradicted": len(contradicted),
            "word_changes": sum(word_errors(p, f) for p, f in differ),
            "final_words": sum(len(f.split()) for _, f in pairs), "examples": differ[:5]}


# --- the figure ----------------------------------------------------------------------------


def measure() -> dict:
    transcripts = librivox_transcripts()
    paths = sorted(transcripts)
    references = [transcripts[path] for path in paths]
    recordings = [read_pcm(path) for path in paths]
    offline_texts = offline(recordings)
    stream = streamed(recordings)
    streamed_texts = [s["transcript"] for s in stream["sessions"]]
    offline_wer, streamed_wer = word_error_rate(references, offline_texts), word_error_rate(references, streamed_texts)
    return {
        "words": sum(len(r.split()) for r in references),
        "offline_wer": offline_wer, "streamed_wer": streamed_wer,
        "ratio": streamed_wer / offline_wer if offline_wer else float("nan"),
        "files": [{"file": path.name, "reference": ref, "offline": off, "streamed": st}
                  for path, ref, off, st in zip(paths, references, offline_texts, streamed_texts)],
        "cpu_per_audio_second": stream["cpu_per_audio_second"],
        "first_text": [s["first_text"] for s in stream["sessions"]],
        "final_after_speech": [s["final_after_speech"] for s in stream["sessions"]],
        "partials": finals_against_partials(recordings),
    }


def summary_lines(result: dict) -> List[str]:
    partials = result["partials"]
    seconds = [value for value in result["first_text"] if value is not None]
    finals = [value for value in result["final_after_speech"] if value is not None]
    lines = [
        f"WER on {result['words']} words of LibriVox (pocketsphinx-testdata): offline decode "
        f"{result['offline_wer']:.1%}, `asrx serve` one session per recording {result['streamed_wer']:.1%}, "
        f"ratio {result['ratio']:.2f} (goal ≤ 1.0)",
        f"server CPU s per audio s, one stream: {result['cpu_per_audio_second']:.3f}",
        f"first text after the first frame: at most {max(seconds, default=float('nan')):.2f} s; "
        f"final text after the recording's last frame: at most {max(finals, default=float('nan')):.2f} s",
        f"finals that differ from the last partial: {partials['differ']} of {partials['finals']} "
        f"({partials['word_changes']} words changed of {partials['final_words']}); "
        f"not an extension of it: {partials['contradicted']}",
    ]
    for row in result["files"]:
        lines += [f"{row['file']}:", f"  reference: {row['reference']}", f"  offline:   {row['offline']}",
                  f"  streamed:  {row['streamed']}"]
    return lines


def figure():
    """For bench/run.py: the figure's rows of the results table, and its notes."""
    from report import FigureResult, Row

    result = measure()
    partials = result["partials"]
    rows = [
        Row("11. `asrx serve` WER, one session per LibriVox recording (baseline: PocketSphinx offline)",
            f"{result['streamed_wer']:.1%}", f"{result['offline_wer']:.1%}", f"{result['ratio']:.2f}",
            goal="ratio ≤ 1.0", met=result["ratio"] <= 1.0),
        Row("11. `asrx serve`: server CPU s per audio s, one stream (accuracy run)",
            f"{result['cpu_per_audio_second']:.3f}", goal="≤ 0.15", met=result["cpu_per_audio_second"] <= 0.15),
        Row("11. `asrx serve`: finals that differ from the last partial", f"{partials['differ']} of {partials['finals']}"),
    ]
    return FigureResult("accuracy", rows, ["Accuracy: " + "; ".join(summary_lines(result)[:4]) + "."], result)


def main(argv=None) -> int:
    why = unavailable()
    if why:
        print(f"bench/accuracy.py: {why}", file=sys.stderr)
        return 1
    result = measure()
    if "--json" in (argv if argv is not None else sys.argv[1:]):
        print(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        print("\n".join(summary_lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
