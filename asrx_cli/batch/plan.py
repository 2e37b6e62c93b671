"""Which files a batch transcribes, in what order, and where each transcript goes."""

import dataclasses
import logging
import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

from asrx_cli.audio.decoder_notes import decoder_notes_logged
from asrx_cli.audio.names import RAW_SUFFIXES, named_as_audio
from asrx_cli.audio.source import duration_of
from asrx_cli.config import TranscribeConfig
from asrx_cli.errors import AudioError, UsageError

log = logging.getLogger("asrx")

# The extension of each output format's files in --output-dir.
EXTENSIONS = {
    "text": ".txt",
    "json": ".jsonl",
    "raw": ".frames.txt",
    "srt": ".srt",
    "vtt": ".vtt",
}
PARTIAL_SUFFIX = ".partial"  # an output being written, or one that did not complete


@dataclasses.dataclass(frozen=True)
class Item:
    """One file of the batch."""

    path: str  # as named on the command line, or joined to the directory that holds it
    output: Optional[str]  # its transcript in --output-dir; None for stdout
    duration: float  # seconds; 0 when it cannot be known before reading

    @property
    def partial(self) -> Optional[str]:
        return None if self.output is None else self.output + PARTIAL_SUFFIX


@dataclasses.dataclass(frozen=True)
class Plan:
    items: List[Item]
    skipped: List[str]  # files in the directories given that are not audio


def plan(config: TranscribeConfig) -> Plan:
    """Every file the inputs name, once each, with its output; raises if two share an output."""
    found: List[Tuple[str, str, float]] = []  # path, path relative to its input, duration
    skipped: List[str] = []
    for given in config.inputs:
        if os.path.isdir(given):
            found.extend(directory_audio(given, config, skipped))
        else:
            found.append((given, os.path.basename(given), file_duration(given, config)))
    items: List[Item] = []
    outputs: Dict[Optional[str], str] = {}
    seen: Set[str] = set()
    for path, relative, duration in found:
        if os.path.normpath(path) in seen:
            continue
        seen.add(os.path.normpath(path))
        output = output_path(config.output_dir, relative, config.output_format)
        if output is not None and output in outputs:
            raise UsageError(f"{outputs[output]} and {path} would both be written to {output}")
        outputs[output] = path
        items.append(Item(path, output, duration))
    if not items:
        raise AudioError(f"no audio files in {', '.join(config.inputs)}")
    return Plan(items, skipped)


def output_path(output_dir: Optional[str], relative: str, output_format: str) -> Optional[str]:
    if output_dir is None:
        return None
    return os.path.join(output_dir, os.path.splitext(relative)[0] + EXTENSIONS[output_format])


def directory_audio(root: str, config: TranscribeConfig,
                    skipped: List[str]) -> Iterator[Tuple[str, str, float]]:
    """The audio files under `root`, recursively, sorted; hidden ones left out.

    A file named as audio is one, even if it cannot be read: it fails with its
    reason. Another file is one if libsndfile reads it; else it goes to `skipped`.
    """
    members = []
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs):
            if name.startswith("."):
                log.info("skipped %s: hidden", os.path.join(folder, name))
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in files:
            path = os.path.join(folder, name)
            if name.startswith("."):
                log.info("skipped %s: hidden", path)
            else:
                members.append((Path(os.path.relpath(path, root)).as_posix(), path))
    for relative, path in sorted(members):
        if named_as_audio(path):
            yield path, relative, file_duration(path, config)
            continue
        duration = readable_duration(path)
        if duration is None:
            log.info("skipped %s: not audio", path)
            skipped.append(path)
        else:
            yield path, relative, duration


def readable_duration(path: str) -> Optional[float]:
    """The length of a file libsndfile reads, or None."""
    import soundfile  # loads libsndfile: only once a batch looks into its files

    try:
        with decoder_notes_logged():
            return soundfile.info(path).duration
    except Exception:  # whatever libsndfile or the OS says, the file is not for us
        return None


def file_duration(path: str, config: TranscribeConfig) -> float:
    """The length of a file named on the command line, as far as it can be known before reading."""
    if Path(path).suffix.lower() in RAW_SUFFIXES:
        try:
            return duration_of(os.path.getsize(path), config.raw_format) or 0.0
        except OSError:
            return 0.0
    return readable_duration(path) or 0.0
