"""`asrx transcribe`: its options, and the config they build."""

import os
from pathlib import Path

import click

from asrx_cli.apikey import resolve_api_key
from asrx_cli.commands.completion import complete_audio, complete_device
from asrx_cli.config import (
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    RAW_SAMPLE_FORMATS,
    RawFormat,
    TranscribeConfig,
)
from asrx_cli.environment import Environment
from asrx_cli.errors import EXIT_STATUS_HELP
from asrx_cli.options import env_option, quiet_option, verbose_option

OUTPUT_FORMATS = ("text", "json", "raw", "srt", "vtt")
CHANNEL_MODES = ("mix", "split")
SUBTITLE_SUFFIXES = {".srt": "srt", ".vtt": "vtt"}  # -o with these names chooses the format
SUBTITLE_FORMATS = tuple(SUBTITLE_SUFFIXES.values())
DEFAULT = TranscribeConfig(audio=None)  # every default is written once, in TranscribeConfig


class NamesOption(click.Option):
    """Also takes the config file's list of names, each one whole, not only "a,b"."""

    def type_cast_value(self, ctx, value):
        if isinstance(value, list):
            return tuple(str(name) for name in value)
        return super().type_cast_value(ctx, value)


@click.command(epilog=EXIT_STATUS_HELP)
@click.argument("audio", metavar="[AUDIO]...", nargs=-1, shell_complete=complete_audio)
@env_option("--url", envvar="ASRX_URL", default=DEFAULT.url,
            help="WebSocket URL of the ASRX server.")
@env_option("--api-key", envvar="ASRX_API_KEY", metavar="KEY",
            help="API key sent in the apikey header. Prefer `asrx login` (the OS keychain), the "
                 "environment variable or the config file: a command line is visible to other "
                 "users. Looked up in this order: --api-key, ASRX_API_KEY, the keychain, the "
                 "config file.")
@env_option("--ca-file", envvar="ASRX_CA_FILE", metavar="PEM",
            type=click.Path(exists=True, dir_okay=False),
            help="Also trust the CA certificates in this PEM file for wss:// URLs.")
@env_option("--speed", envvar="ASRX_SPEED", type=click.FloatRange(min=0),
            metavar="X", help="Send audio at X times real time; 0 sends as fast as possible. "
                              "[default: 1 for files, 0 for stdin and --mic]")
@env_option("--chunk-ms", envvar="ASRX_CHUNK_MS", default=DEFAULT.chunk_ms,
            type=click.IntRange(1, 10000), metavar="MS",
            help="Audio sent per WebSocket frame.")
@click.option("--raw-rate", type=click.IntRange(1, MAX_SAMPLE_RATE),
              default=DEFAULT.raw_format.rate, show_default=True, metavar="HZ",
              help="Sample rate of headerless input (.pcm, .raw, stdin).")
@click.option("--raw-channels", type=click.IntRange(1, MAX_CHANNELS),
              default=DEFAULT.raw_format.channels, show_default=True,
              metavar="N", help="Channels of headerless input.")
@click.option("--raw-format", type=click.Choice(RAW_SAMPLE_FORMATS),
              default=DEFAULT.raw_format.sample_format, show_default=True,
              help="Sample format of headerless input.")
@click.option("--format", "output_format", type=click.Choice(OUTPUT_FORMATS),
              default=DEFAULT.output_format, show_default=True,
              help="text: one line per sentence; json: JSON Lines events; "
                   "raw: the server's frames as they came; srt, vtt: subtitles "
                   "timed on the speech (also chosen by -o NAME.srt or NAME.vtt).")
@env_option("--max-line-width", envvar="ASRX_MAX_LINE_WIDTH", type=click.IntRange(10, 200),
            default=DEFAULT.max_line_width, metavar="CHARS",
            help="Subtitles: characters a line at most, Thai vowel and tone marks not counted.  "
                 "[default: 35 for text with Thai in it, 42 for other text]")
@env_option("--max-lines", envvar="ASRX_MAX_LINES", type=click.IntRange(1, 10),
            default=DEFAULT.max_lines, metavar="N", help="Subtitles: lines a cue at most.")
@click.option("--json", "json_output", is_flag=True, help="Same as --format json.")
@click.option("--partials/--no-partials", default=DEFAULT.partials, show_default=True,
              help="Show partial hypotheses (live line on a terminal, events in JSON).")
@click.option("-o", "--output", "output_path", metavar="FILE",
              help="Write the transcript to FILE instead of stdout.")
@click.option("--output-dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Write one output per input into DIR, named after it with the format's "
                   "extension (a.wav: a.txt or a.jsonl), keeping the layout under a directory "
                   "input.")
@click.option("--overwrite", is_flag=True,
              help="Redo inputs whose output in --output-dir is already complete (else skipped).")
@click.option("--resume", is_flag=True,
              help="With -o FILE: go on from where an interrupted run writing FILE stopped (its "
                   "journal FILE.resume), without sending the audio before its last sentence "
                   "again. A batch with --output-dir always does so. Not for stdin or --mic.")
@env_option("-j", "--jobs", envvar="ASRX_JOBS", default=DEFAULT.jobs, type=click.IntRange(1, 64),
            metavar="N",
            help="Transcribe up to N files at once.")
@env_option("--final-timeout", envvar="ASRX_FINAL_TIMEOUT", default=DEFAULT.final_timeout,
            type=click.FloatRange(min=0), metavar="SECONDS",
            help="How long to wait for the end marker after the audio is sent.")
@env_option("--connect-timeout", envvar="ASRX_CONNECT_TIMEOUT", default=DEFAULT.connect_timeout,
            type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
            help="How long to wait for the connection and handshake, all of it.")
@env_option("--send-timeout", envvar="ASRX_SEND_TIMEOUT", default=DEFAULT.send_timeout,
            type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
            help="How long a send may wait on a server that takes no data before the run fails.")
@env_option("--retries", envvar="ASRX_RETRIES", default=DEFAULT.retries, type=click.IntRange(min=0),
            metavar="N",
            help="When the connection is lost while audio remains, open a new session up to N "
                 "times in a row, sending again the sentence that was open; 0: a lost connection "
                 "ends the run.")
@env_option("--retry-delay", envvar="ASRX_RETRY_DELAY", default=DEFAULT.retry_delay,
            type=click.FloatRange(min=0), metavar="SECONDS",
            help="Base of the backoff between attempts: attempt n waits a random time up to "
                 "SECONDS * 2^(n-1) (at most 30 s).")
@env_option("--max-buffer", envvar="ASRX_MAX_BUFFER", default=DEFAULT.max_buffer,
            type=click.FloatRange(min=1), metavar="SECONDS",
            help="Audio kept to be sent again after a reconnect, and read from a live input while "
                 "the connection is down; beyond it the oldest is dropped, with a warning.")
@env_option("--catch-up", envvar="ASRX_CATCH_UP", default=DEFAULT.catch_up,
            type=click.FloatRange(min=1), metavar="X",
            help="After a reconnect, send a live input's backlog at X times real time until live "
                 "again.")
@env_option("--channels", envvar="ASRX_CHANNELS", type=click.Choice(CHANNEL_MODES),
            default=DEFAULT.channels,
            help="mix: the input's channels mixed down into one session; split: a session per "
                 "channel, all at once, each line or event labelled with its channel (call "
                 "recordings: agent and customer apart).")
@env_option("--channel-names", envvar="ASRX_CHANNEL_NAMES", metavar="NAME,...", cls=NamesOption,
            help="With --channels split, the channels' labels, one per channel of the input.  "
                 "[default: 1,2,...]")
@click.option("--stats", is_flag=True,
              help="At the end, print audio sent, wall time, real-time factor, sentences, time to "
                   "the first partial and final-text latency to stderr (with --json, also a "
                   "stats event).")
@click.option("--mic", is_flag=True,
              help="Capture from the microphone instead of AUDIO (see `asrx devices`).")
@env_option("--device", envvar="ASRX_DEVICE", metavar="NAME|INDEX", shell_complete=complete_device,
            help="Input device for --mic: its index, or a part of its name.  "
                 "[default: the system's]")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after SECONDS of audio (any input).")
@click.option("--save-audio", metavar="FILE.wav",
              help="Also write the audio sent, 16 kHz mono 16-bit, to this WAV file (any input); "
                   "with --channels split, one channel per channel sent.")
@quiet_option()
@verbose_option
@click.pass_context
def transcribe(ctx, **options):
    """Stream AUDIO to the server and print the transcript as it comes.

    AUDIO is any file libsndfile reads (WAV, FLAC, OGG, Opus, MP3, AIFF...),
    a headerless .pcm/.raw file, or - for stdin (headerless PCM, or WAV as
    arecord writes it); --mic captures the microphone instead, until Ctrl-C
    or --duration. Audio is converted to 16 kHz mono s16le on the way;
    with --channels split each channel of a call recording is streamed in a
    session of its own and the transcript says whose each sentence is.

    Several AUDIO, or a directory (its audio files, recursively), make a
    batch: --jobs at a time, into --output-dir or onto stdout with each line
    marked with its file; a bad file fails alone, a summary ends on stderr.
    Running the same command again finishes what is left.
    """
    config = build_transcribe_config(ctx, options)
    # asrx does no linear algebra: one OpenBLAS thread instead of one per core
    # makes importing numpy (below) faster and spares the CPU its threads spin.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    env = ctx.find_object(Environment)
    if config.batch:
        from asrx_cli.batch.run import run_batch

        return run_batch(config, env)
    from asrx_cli.transcription import (
        run_transcription,  # numpy, soundfile, websocket-client: not for --help
    )

    return run_transcription(config, env)


def build_transcribe_config(ctx, options) -> TranscribeConfig:
    raw_params = ("raw_rate", "raw_channels", "raw_format")
    raw_given = any(
        ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        for name in raw_params
    )
    if options["quiet"] and options["verbose"]:
        raise click.UsageError("--quiet and --verbose exclude each other")
    if options["json_output"] and options["output_format"] not in ("text", "json"):
        raise click.UsageError(f"--json and --format {options['output_format']} exclude each other")
    batch = _is_batch(options)  # looks at the file system: once
    _check_input(ctx, options, batch)
    inputs = tuple(options["audio"])
    return TranscribeConfig(
        audio=inputs[0] if len(inputs) == 1 else None,
        inputs=inputs,
        batch=batch,
        jobs=options["jobs"],
        output_dir=options["output_dir"],
        overwrite=options["overwrite"],
        resume=options["resume"],
        mic=options["mic"],
        device=options["device"],
        duration=options["duration"],
        save_audio=options["save_audio"],
        url=options["url"],
        api_key=resolve_api_key(ctx, options["api_key"], ctx.find_object(Environment).stderr),
        ca_file=options["ca_file"],
        speed=options["speed"],
        chunk_ms=options["chunk_ms"],
        raw_format=RawFormat(options["raw_rate"], options["raw_channels"], options["raw_format"]),
        raw_format_given=raw_given,
        output_format=_output_format(ctx, options),
        partials=options["partials"],
        output_path=options["output_path"],
        quiet=options["quiet"],
        verbose=options["verbose"],
        final_timeout=options["final_timeout"],
        connect_timeout=options["connect_timeout"],
        stats=options["stats"],
        send_timeout=options["send_timeout"],
        retries=options["retries"],
        retry_delay=options["retry_delay"],
        max_buffer=options["max_buffer"],
        catch_up=options["catch_up"],
        max_line_width=options["max_line_width"],
        max_lines=options["max_lines"],
        channels=options["channels"],
        channel_names=_channel_names(options),
    )


def _channel_names(options) -> tuple:
    given = options["channel_names"]
    if not given:
        return ()
    if options["channels"] != "split":
        raise click.UsageError("--channel-names applies to --channels split only")
    listed = isinstance(given, tuple)  # the config file's list
    names = tuple(name.strip() for name in (given if listed else given.split(",")))
    if not all(names):
        shown = ",".join(given) if listed else given
        raise click.UsageError(f"--channel-names {shown!r}: a name is empty")
    return names


def _output_format(ctx, options) -> str:
    if options["json_output"]:
        return "json"
    given = ctx.get_parameter_source("output_format") is click.core.ParameterSource.COMMANDLINE
    path = options["output_path"]
    if not given and path:
        return SUBTITLE_SUFFIXES.get(Path(path).suffix.lower(), options["output_format"])
    return options["output_format"]


def _check_input(ctx, options, batch: bool):
    """AUDIO or --mic, one of the two; stdin alone."""
    if options["mic"] and options["audio"]:
        raise click.UsageError("give AUDIO or --mic, not both")
    if not options["mic"] and not options["audio"]:
        raise click.UsageError("missing AUDIO: give a file, - for stdin, or --mic")
    if batch:
        _check_batch(options)
    if (not options["mic"]
            and ctx.get_parameter_source("device") is click.core.ParameterSource.COMMANDLINE):
        raise click.UsageError("--device applies to --mic only")


def _is_batch(options) -> bool:
    """Several inputs, a directory, or --output-dir: one input file keeps the plain behaviour."""
    audio = options["audio"]
    return (options["output_dir"] is not None or len(audio) > 1
            or any(os.path.isdir(a) for a in audio))


def _check_batch(options):
    if options["mic"] or "-" in options["audio"]:
        raise click.UsageError("a batch (several AUDIO, a directory, --output-dir) takes files "
                               "and directories, not - or --mic")
    for option, name in (("output_path", "-o/--output"), ("save_audio", "--save-audio"),
                         ("stats", "--stats")):
        if options[option]:
            raise click.UsageError(f"{name} takes a single input file; use --output-dir for a batch"
                                   if option == "output_path"
                                   else f"{name} takes a single input file")
    if options["output_format"] in SUBTITLE_FORMATS and options["output_dir"] is None:
        raise click.UsageError(f"--format {options['output_format']} of several inputs "
                               "needs --output-dir")
