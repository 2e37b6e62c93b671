"""Figure 11: `asrx serve`'s accuracy against PocketSphinx's own offline decode of the same files, its CPU, and
how often a final differs from the partial before it (bench/README.md says how each is measured)."""

import asyncio
from typing import List

import clients
import serve
from asrx_cli.server.engines import load_engine
from asrx_cli.server.process import ServeProcess
from asrx_cli.server.transcriber import Transcriber
from asrx_cli.wire import FRAME_BYTES
from report import FigureResult, Row
from tests.speech import LIBRIVOX, librivox_transcripts, read_pcm, word_errors

CPU_GOAL = 0.15


def word_error_rate(references: List[str], hypotheses: List[str]) -> float:
    return sum(map(word_errors, references, hypotheses)) / sum(len(r.split()) for r in references)


def offline(recordings: List[bytes]) -> List[str]:
    """Each whole file by pocketsphinx.Decoder() with its defaults, nothing tuned to the files."""
    import pocketsphinx  # the server's optional dependency: only this figure needs it

    pocketsphinx.set_loglevel("FATAL")
    decoder = pocketsphinx.Decoder(loglevel="FATAL")
    texts = []
    for pcm in recordings:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        texts.append(decoder.hyp().hypstr if decoder.hyp() else "")
    return texts


def streamed(recordings: List[bytes]) -> dict:
    """Each file in a session of its own to a real `asrx serve`, one after the other."""
    with ServeProcess("--api-key", clients.API_KEY, "--quiet", env=clients.client_environment()) as server:
        cpu_before = clients.tree_cpu_seconds(server.pid)
        sessions = [asyncio.run(serve.stream_once(server.url, str(index), pcm))
                    for index, pcm in enumerate(recordings)]
        cpu = clients.tree_cpu_seconds(server.pid) - cpu_before
    return {"sessions": sessions, "cpu_per_audio_second": cpu / sum(s["audio_seconds"] for s in sessions)}


def finals_against_partials(recordings: List[bytes]) -> dict:
    """Each utterance's final beside the last partial before it, from the server's own code in this process:
    the wire does not tell them apart (a final equal to the last partial is not sent again)."""
    engine = load_engine("pocketsphinx")
    pairs = []
    for pcm in recordings:
        transcriber, last_partial, hypotheses = Transcriber(engine.open()), {}, []
        audio = pcm + serve.SILENCE
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


def figure() -> FigureResult:
    if not (LIBRIVOX / "transcription").exists():
        raise RuntimeError(f"no LibriVox recordings in {LIBRIVOX} (Debian package pocketsphinx-testdata)")
    transcripts = librivox_transcripts()
    paths = sorted(transcripts)
    references, recordings = [transcripts[path] for path in paths], [read_pcm(path) for path in paths]
    offline_texts, stream = offline(recordings), streamed(recordings)
    sessions = stream["sessions"]
    errors = [s["error"] for s in sessions if s["error"]]
    if errors:
        raise RuntimeError("; ".join(errors))
    streamed_texts = [s["transcript"] for s in sessions]
    offline_wer, streamed_wer = word_error_rate(references, offline_texts), word_error_rate(references, streamed_texts)
    ratio = streamed_wer / offline_wer if offline_wer else float("nan")
    cpu, partials = stream["cpu_per_audio_second"], finals_against_partials(recordings)
    result = {"words": sum(len(r.split()) for r in references), "offline_wer": offline_wer,
              "streamed_wer": streamed_wer, "ratio": ratio, "cpu_per_audio_second": cpu, "partials": partials,
              "first_text": [s["first_text"] for s in sessions],
              "final_after_speech": [s["latency"] for s in sessions],
              "files": [{"file": path.name, "reference": ref, "offline": off, "streamed": st}
                        for path, ref, off, st in zip(paths, references, offline_texts, streamed_texts)]}
    rows = [
        Row("11. `asrx serve` WER, one session per LibriVox recording (baseline: PocketSphinx offline)",
            f"{streamed_wer:.1%}", f"{offline_wer:.1%}", f"{ratio:.2f}", goal="ratio ≤ 1.0", met=ratio <= 1.0),
        Row("11. `asrx serve`: server CPU s per audio s, one stream (accuracy run)", f"{cpu:.3f}",
            goal=f"≤ {CPU_GOAL:g}", met=cpu <= CPU_GOAL),
        Row("11. `asrx serve`: finals that differ from the last partial",
            f"{partials['differ']} of {partials['finals']}"),
    ]
    note = (f"Accuracy: WER on {result['words']} words of LibriVox (pocketsphinx-testdata): offline decode "
            f"{offline_wer:.1%}, `asrx serve` {streamed_wer:.1%}; first text after the first frame: at most "
            f"{max(result['first_text']):.2f} s; final text after the recording's last frame: at most "
            f"{max(result['final_after_speech']):.2f} s; finals that differ from the last partial: "
            f"{partials['differ']} of {partials['finals']} ({partials['word_changes']} words changed of "
            f"{partials['final_words']}); not an extension of it: {partials['contradicted']}.")
    return FigureResult("accuracy", rows, [note], result)
