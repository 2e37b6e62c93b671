"""Resuming an output: a journal of what was written, kept beside it until it is complete.

NAME.resume holds, in JSON Lines, a header naming the input (its size and
modification time) and the output settings, then every event the output was
given, each flushed as it is written, and synced to disk with each final
sentence. Once the server has gone on to the next sentence, a line says
where in the input a rerun may start (`resume_at`: the end of the last final
sentence's speech, as the speech detector placed it). A sentence written out
because the run ended (interrupted, failed, killed) is no such point: its
audio goes again. A final the speech detector found no speech for (timing
"arrival") is none either: where its speech ended is not known.

A rerun reads it back: a last line cut off by a crash is dropped, not read;
what came after the last final (partial text of an open sentence) is dropped
too. The output is written again from the events kept, through the same
renderer, so it is byte for byte what the first run wrote up to that final;
the audio is read from `resume_at`, and the new session's sentence numbers
and times go on from the journal's. A journal that does not match the input
or the settings, or that is damaged anywhere but its last line, is discarded:
the input is transcribed from the start.
"""

import dataclasses
import json
import logging
import os
from typing import Iterable, List, Optional, TextIO

from asrx_cli.config import TranscribeConfig
from asrx_cli.errors import OutputFailed
from asrx_cli.output.render import Renderer, event_record
from asrx_cli.transcript.events import Event, Final, Partial

log = logging.getLogger("asrx")

JOURNAL_SUFFIX = ".resume"
VERSION = 1
SHIFTED_RECORD_KEYS = ("position", "replay_from")  # positions in the input, in records
NOT_RESUMABLE_FORMATS = ("raw",)  # the server's frames as they came: not made again from events


@dataclasses.dataclass(frozen=True)
class Resume:
    """Where a transcription left off: the journal's entries up to its last final."""

    start: float  # seconds of the input where the audio goes on
    sentences: int  # sentence numbers already given
    entries: List[dict]


def journal_path(output: str) -> str:
    return output + JOURNAL_SUFFIX


def resumable(config: TranscribeConfig) -> bool:
    """Raw frames cannot be resumed, nor split channels (each channel's session ends elsewhere)."""
    return config.output_format not in NOT_RESUMABLE_FORMATS and config.channels != "split"


def header(config: TranscribeConfig, audio: str) -> dict:
    """What the journal must match: the same input file, the same output settings."""
    status = os.stat(audio)
    return {"asrx": "resume", "version": VERSION, "size": status.st_size,
            "mtime_ns": status.st_mtime_ns, "format": config.output_format,
            "partials": config.partials,
            "raw": list(dataclasses.astuple(config.raw_format))}


def load(path: str, expected: dict) -> Optional[Resume]:
    """The journal at `path`, if it is one for `expected` and holds a final sentence."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("%s cannot be read (%s): starting from the beginning", path, exc.strerror)
        return None
    lines = data.split(b"\n")
    if lines.pop():  # what follows the last newline: a line a crash cut short
        log.info("%s: dropped a last line that was not complete", path)
    try:
        records = [json.loads(line) for line in lines]
    except ValueError:
        log.warning("%s is damaged: starting from the beginning", path)
        return None
    if not records or records[0] != expected:
        log.info("%s is not for this input and these settings: starting from the beginning", path)
        return None
    entries = records[1:]
    marks = [index for index, entry in enumerate(entries) if "resume_at" in entry]
    if not marks:
        return None
    kept = entries[:marks[-1] + 1]
    return Resume(kept[-1]["resume_at"], kept[-1]["sentences"], kept)


def replay(entries: Iterable[dict], renderer: Renderer):
    """The events of a journal, given again to a fresh renderer."""
    for entry in entries:
        if "event" in entry:  # else a point to go on from
            renderer.event(_event(entry["event"]))
        elif "record" in entry:
            renderer.record(entry["record"])


def _event(record: dict) -> Event:
    if record["type"] == "partial":
        return Partial(record["sentence"], record["text"], record["offset"])
    return Final(record["sentence"], record["text"], record["start"], record["end"],
                 record["timing"])


class Journaled(Renderer):
    """A renderer that journals what it renders; after a resume, numbers and times go on."""

    def __init__(self, inner: Renderer, path: str, head: dict, resume: Optional[Resume]):
        super().__init__(inner.out)
        self.inner = inner
        self.shift = resume.start if resume else 0.0
        self.base = resume.sentences if resume else 0
        self.pending: Optional[Final] = None  # the last final, until the next sentence confirms it
        self.path = path
        self.lines = [head, *(resume.entries if resume else [])]
        self.file: Optional[TextIO] = None  # made by the first event: none if nothing came

    def event(self, event: Event):
        event = self._shifted(event)
        final = self.pending
        sentence = event.sentence if isinstance(event, (Partial, Final)) else -1
        later = final is not None and sentence > final.sentence
        if final is not None and later:
            # The server went on to the next sentence: that final was its own, not the
            # open sentence written out as a run ended, and its speech is over.
            self._journal({"resume_at": final.end, "sentences": final.sentence + 1}, durable=True)
            self.pending = None
        self._journal({"event": _full_record(event)}, durable=isinstance(event, Final))
        if isinstance(event, Final) and event.timing == "speech":
            self.pending = event  # where its speech ended is known: a point to go on from
        self.inner.event(event)

    def record(self, record: dict):
        record = {key: value + self.shift if key in SHIFTED_RECORD_KEYS and value is not None
                  else value for key, value in record.items()}
        self._journal({"record": record}, durable=False)
        self.inner.record(record)

    def frame(self, frame):
        self.inner.frame(frame)

    def close(self):
        self.inner.close()
        if self.file is not None:
            self.file.close()

    def _shifted(self, event: Event) -> Event:
        if isinstance(event, Partial):
            return dataclasses.replace(event, sentence=event.sentence + self.base,
                                       offset=event.offset + self.shift)
        if isinstance(event, Final):
            return dataclasses.replace(event, sentence=event.sentence + self.base,
                                       start=event.start + self.shift, end=event.end + self.shift)
        return event

    def _journal(self, entry: dict, durable: bool):
        if self.file is None:
            self.file = _rewrite(self.path, self.lines)
        file = self.file
        try:
            file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            file.flush()
            if durable:  # a final survives a crash, or a power cut, with the partials before it
                os.fsync(file.fileno())
        except OSError as exc:
            raise OutputFailed(f"{self.path}: {(exc.strerror or str(exc)).lower()}") from None


def _full_record(event: Event) -> dict:
    """The event's record with its times unrounded: the output made again from it is the same."""
    record = event_record(event)
    if isinstance(event, Partial):
        record["offset"] = event.offset
    elif isinstance(event, Final):
        record.update(start=event.start, end=event.end)
    return record


def _rewrite(path: str, lines: List[dict]) -> TextIO:
    """The journal with these lines only, put in place whole; then open for more."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        return open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise OutputFailed(f"{path}: {(exc.strerror or str(exc)).lower()}") from None


@dataclasses.dataclass(frozen=True)
class JournalPlan:
    """Where a transcription journals what it writes, and what an earlier run left there."""

    path: str
    head: dict
    resume: Optional[Resume]

    @property
    def start(self) -> float:
        return self.resume.start if self.resume else 0.0


def plan_journal(config: TranscribeConfig, audio: str, output: str,
                 resume: bool) -> Optional[JournalPlan]:
    """The journal of `output`, read back if `resume`; None for a format that cannot resume."""
    if not resumable(config):
        return None
    path = journal_path(output)
    try:
        head = header(config, audio)
    except OSError:  # no such input: opening it says so
        return None
    found = load(path, head) if resume else None
    if found is not None:
        log.info("%s: resuming after %d sentences, at %.2f s of the input", audio, found.sentences,
                 found.start)
    return JournalPlan(path, head, found)


def remove(path: str):
    """The output is complete: its journal goes."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
