"""Settings of a run, and the config file that supplies their defaults.

Precedence, highest first: command line, `ASRX_*` environment variables, the
config file, built-in defaults. click gives the first two and consults the
config file through its `default_map`, so this module only reads the file.
"""

import dataclasses
import ipaddress
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from asrx_cli.errors import UsageError
from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_RATE

DEFAULT_URL = "wss://api.iapp.co.th/asrx"

CONFIG_ENV = "ASRX_CONFIG"

# Sample formats of headerless input (stdin, .pcm/.raw files).
RAW_SAMPLE_FORMATS = ("s16le", "s16be", "s24le", "s32le", "f32le", "f64le", "u8", "s8")
# What a stream may claim (headerless input's options, a WAV header on stdin): beyond
# these a block of a quarter second would take more memory than any real audio needs.
MAX_SAMPLE_RATE = 768000
MAX_CHANNELS = 64

NUMBER = (int, float)
# Top-level keys of the config file, applied to `asrx transcribe`, with the types they take.
TRANSCRIBE_KEYS = {
    **dict.fromkeys(("url", "api_key", "ca_file"), str),
    **dict.fromkeys(("chunk_ms", "jobs", "retries", "max_line_width", "max_lines"), int),
    **dict.fromkeys(("speed", "final_timeout", "connect_timeout", "send_timeout", "retry_delay",
                     "max_buffer", "catch_up"), NUMBER),
    "device": (str, int),  # an index or a part of the name
    "channels": str,
    "channel_names": (str, list),  # "agent,customer" or ["agent", "customer"]
}
SERVE_TABLE = "serve"
# Keys of its [serve] table, applied to `asrx serve`: its options' names.
SERVE_KEYS = {
    **dict.fromkeys(("host", "engine"), str),
    **dict.fromkeys(("port", "workers", "max_sessions", "max_frame_bytes"), int),
    **dict.fromkeys(("idle_timeout", "max_session_time", "close_wait", "engine_timeout",
                     "decoder_idle_time"), NUMBER),
    **dict.fromkeys(("quiet", "verbose"), bool),
    "api_key": (str, list),  # one key, comma-separated keys or a list
}


@dataclasses.dataclass(frozen=True)
class RawFormat:
    """How to read headerless PCM."""

    rate: int = SAMPLE_RATE
    channels: int = 1
    sample_format: str = "s16le"


@dataclasses.dataclass(frozen=True)
class TranscribeConfig:
    audio: Optional[str]  # a path, or "-" for stdin; None with mic
    url: str = DEFAULT_URL
    api_key: Optional[str] = None
    ca_file: Optional[str] = None
    speed: Optional[float] = None  # None: 1 for files, 0 for stdin
    chunk_ms: int = 32
    raw_format: RawFormat = RawFormat()
    raw_format_given: bool = False
    output_format: str = "text"  # text | json | raw | srt | vtt
    partials: bool = True
    output_path: Optional[str] = None
    quiet: bool = False
    verbose: bool = False
    final_timeout: float = 10.0
    connect_timeout: float = 10.0
    send_timeout: float = 10.0
    mic: bool = False  # capture from an input device instead of AUDIO
    device: Optional[str] = None  # input device: index or part of its name; None for the default
    duration: Optional[float] = None  # stop after this many seconds of audio
    save_audio: Optional[str] = None  # WAV file that receives the audio sent
    stats: bool = False  # a summary of the run at its end
    inputs: Tuple[str, ...] = ()  # every AUDIO given: files and directories
    batch: bool = False  # several inputs, a directory or an output directory
    jobs: int = 1  # files transcribed at once
    output_dir: Optional[str] = None  # one output per input, in this directory
    overwrite: bool = False  # redo inputs whose output in output_dir is complete
    resume: bool = False  # -o FILE goes on from where an interrupted run left it
    retries: int = 5  # new sessions after a lost one, in a row; 0: a lost connection ends the run
    retry_delay: float = 0.5  # the base of the exponential backoff, in seconds
    max_buffer: float = 120.0  # seconds of audio kept to send again, or read while down
    catch_up: float = 2.0  # how much faster than real time a live backlog goes out
    max_line_width: Optional[int] = None  # subtitle characters a line; None: 35 for Thai, else 42
    max_lines: int = 2  # subtitle lines a cue
    channels: str = "mix"  # mix: the channels mixed down into one session; split: one per channel
    channel_names: Tuple[str, ...] = ()  # labels of the channels with split; () for 1, 2, ...

    @property
    def reads_stdin(self) -> bool:
        return self.audio == "-"

    @property
    def is_live(self) -> bool:
        """Audio that arrives in real time by itself: asrx does not pace it."""
        return self.reads_stdin or self.mic

    @property
    def effective_speed(self) -> float:
        if self.speed is not None:
            return self.speed
        return 0.0 if self.is_live else 1.0

    @property
    def chunk_bytes(self) -> int:
        return BYTES_PER_SECOND * self.chunk_ms // 1000


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or address, IPv6 possibly in brackets) stays on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name, or "" (all interfaces)
        return False


def config_path(environ=os.environ) -> Path:
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "asrx" / "config.toml"


def load_default_map(environ=os.environ) -> Dict[str, Dict[str, Any]]:
    """Read the config file into click's default_map: {command: {param: value}}."""
    path = config_path(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if environ.get(CONFIG_ENV):
            raise UsageError(f"config file {path} does not exist") from None
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror}") from None
    return _parse_config(text, path)


def _parse_config(text: str, path: Path) -> Dict[str, Dict[str, Any]]:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path}: {exc}") from None
    serve = data.pop(SERVE_TABLE, {})
    if not isinstance(serve, dict):
        raise UsageError(f"config file {path}: [{SERVE_TABLE}] must be a table")
    _check_table(data, TRANSCRIBE_KEYS, f"config file {path}: ", f", [{SERVE_TABLE}]")
    _check_table(serve, SERVE_KEYS, f"config file {path}: [{SERVE_TABLE}] ", "")
    return {"transcribe": data, SERVE_TABLE: serve}


def _check_table(table: dict, expected_types: dict, where: str, also_known: str) -> None:
    for key, value in table.items():
        expected = expected_types.get(key)
        if expected is None:
            known = ", ".join(sorted(expected_types))
            raise UsageError(f"{where}unknown key {key!r} (known: {known}{also_known})")
        if not _has_type(value, expected):
            raise UsageError(f"{where}{key} has the wrong type")


def _has_type(value, expected) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool):  # an int to Python, but never a number in this file
        return bool in types
    if isinstance(value, list):
        return list in types and all(isinstance(item, str) for item in value)
    return isinstance(value, types)
