"""A transcription of one input into one output: the checks, the input, the output, a Session.

`run_transcription` is what `asrx transcribe` runs for a single input; a batch
calls `prepare` once and `transcribe_input` for each file.
"""

import contextlib
import dataclasses
import logging
import os
import stat
from typing import Callable, ContextManager, Optional, TextIO

from asrx_cli.audio.inputs import counted, open_input
from asrx_cli.audio.recording import recording
from asrx_cli.config import TranscribeConfig, is_loopback
from asrx_cli.environment import Environment
from asrx_cli.errors import ExitStatus, UsageError
from asrx_cli.logs import setup_logging
from asrx_cli.net.connection import check_url
from asrx_cli.output.factory import make_renderer
from asrx_cli.output.guard import refuse_inputs_as_outputs
from asrx_cli.output.journal import Journaled, JournalPlan, plan_journal
from asrx_cli.output.journal import remove as remove_journal
from asrx_cli.output.journal import replay as replay_journal
from asrx_cli.output.levelmeter import LevelMeter, MeterUntilWords
from asrx_cli.output.render import Renderer, open_output
from asrx_cli.stream.interrupt import InterruptFlag
from asrx_cli.stream.session import Session

log = logging.getLogger("asrx")


def run_transcription(config: TranscribeConfig, env: Environment) -> int:
    prepare(config, env)
    path = config.output_path
    journal = None
    if path and path != "-" and config.audio and config.audio != "-" and is_regular(path, True):
        journal = plan_journal(config, config.audio, path, config.resume)
        if config.resume and journal and journal.resume is None and _complete(path, journal.path):
            log.warning("%s is complete already: nothing to resume", path)
            return ExitStatus.SUCCESS
    transcribe_input(config, env, InterruptFlag(), lambda: open_output(path, env), journal=journal)
    if journal is not None:
        remove_journal(journal.path)
    return ExitStatus.SUCCESS


def is_regular(path: str, missing: bool) -> bool:
    """A regular file (or, if `missing`, none yet): an output that can be written again."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return missing
    except OSError:
        return False


def _complete(output: str, journal: str) -> bool:
    """An output with no journal beside it was completed by the run that wrote it."""
    return os.path.exists(output) and not os.path.exists(journal)


def prepare(config: TranscribeConfig, env: Environment):
    """Logging, and the checks every run makes before it opens anything."""
    setup_logging(env.stderr, config.verbose, config.quiet, secrets=[config.api_key or ""])
    host = check_url(config.url)
    if not config.api_key:
        raise UsageError("no API key: set ASRX_API_KEY, pass --api-key, "
                         "store one with `asrx login`, or put api_key in the config file")
    if config.url.startswith("ws://") and not is_loopback(host):
        log.warning("the API key travels unencrypted to %s over ws://; use wss://", host)
    if config.resume and (config.is_live or not config.output_path or config.output_path == "-"
                          or not is_regular(config.output_path, True)):
        raise UsageError("--resume needs -o FILE and an input file: stdin and the microphone "
                         "cannot be read again from a point")
    if config.resume and config.channels == "split":
        raise UsageError("--resume does not apply to --channels split: "
                         "each channel stops elsewhere")
    if config.reads_stdin and env.stdin_isatty:
        raise UsageError("stdin is a terminal: pipe audio into `asrx transcribe -`, or give a file")
    if not config.batch and config.audio not in (None, "-"):  # a batch checks each file's output
        outputs = [("-o", config.output_path), ("--save-audio", config.save_audio)]
        refuse_inputs_as_outputs([config.audio or ""],
                                 [(o, p) for o, p in outputs if p and p != "-"])


def transcribe_input(config: TranscribeConfig, env: Environment, interrupt: "InterruptFlag",
                     output: Callable[[], ContextManager[TextIO]],
                     on_audio: Optional[Callable[[int], None]] = None,
                     journal: Optional[JournalPlan] = None):
    """Transcribe the input `config` names into the stream `output()` opens once the input is open.

    `on_audio(n)` hears of every n bytes of 16 kHz audio read, from the decoder thread.
    With a `journal`, what is written is journaled, and an earlier run's transcript is
    written again and gone on from (output/journal.py).
    """
    meter = _level_meter(config, env)
    start = journal.start if journal else 0.0
    source = open_input(config, env.stdin, interrupt.stop, meter.show if meter else None, start)
    log.info("audio: %s", source.description)
    if on_audio is not None:
        source = dataclasses.replace(source,
                                     blocks=counted(source.blocks, on_audio, source.channels))
    if source.channels > 1:
        return _transcribe_channels(config, env, interrupt, output, source, meter)
    if config.channel_names and len(config.channel_names) != 1:
        source.close()
        raise UsageError(f"--channel-names gives {len(config.channel_names)} names "
                         f"({','.join(config.channel_names)}) but the input has 1 channel")
    try:
        with output() as out, recording(config.save_audio) as recorder, interrupt.installed():
            renderer = make_renderer(
                config.output_format, out, live=config.output_path is None and env.stdout_isatty,
                partials=config.partials, columns=env.columns,
                line_width=config.max_line_width, cue_lines=config.max_lines,
            )
            if journal is not None:
                renderer = _journaled(renderer, journal)
            if meter:
                renderer = MeterUntilWords(renderer, meter)
            if journal is not None and journal.resume is not None and source.duration == 0:
                # Every sentence was final up to the end of the input: nothing is left to send,
                # and a session with no audio is no transcription (a server may refuse it).
                log.info("the journal holds the whole input: nothing left to send")
                renderer.close()
            else:
                Session(config, env, source, renderer, interrupt, recorder).run()
    finally:
        source.close()


def _journaled(renderer: Renderer, journal: JournalPlan) -> Renderer:
    """The earlier run's transcript written again, then what comes journaled."""
    if journal.resume is not None:
        replay_journal(journal.resume.entries, renderer)
    return Journaled(renderer, journal.path, journal.head, journal.resume)


def _transcribe_channels(config: TranscribeConfig, env: Environment, interrupt: "InterruptFlag",
                         output: Callable[[], ContextManager[TextIO]], source, meter):
    """--channels split of an input of several channels: a session each (stream/channels.py)."""
    from asrx_cli.audio.channel_recording import ChannelsRecording
    from asrx_cli.stream.channels import ChannelRun

    try:
        run = ChannelRun(config, env, source, interrupt, meter)
        recorder = (ChannelsRecording(config.save_audio, source.channels) if config.save_audio
                    else None)
        with output() as out, recorder or contextlib.nullcontext(), interrupt.installed():
            run.run(out, recorder)
    finally:
        source.close()


def _level_meter(config: TranscribeConfig, env: Environment) -> Optional[LevelMeter]:
    """The microphone's status line, for a user who watches stderr on a terminal."""
    if not config.mic or config.quiet or not env.stderr_isatty:
        return None
    return LevelMeter(env.stderr, env.columns)
