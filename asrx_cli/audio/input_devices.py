"""Input devices through PortAudio (sounddevice): listing them, finding one by name or index.

sounddevice is imported here only, and only when a command needs a device:
`asrx --help` and file transcription never load PortAudio.
"""

import dataclasses
from typing import List, Optional

from asrx_cli.errors import AudioError, UsageError

PORTAUDIO_MISSING = ("the microphone needs the PortAudio library, which is not installed "
                     "(Debian/Ubuntu: apt install libportaudio2; "
                     "elsewhere: pip install sounddevice)")


def import_sounddevice():
    """The sounddevice module, or a one-line usage error saying what to install."""
    try:
        import sounddevice
    except OSError:  # sounddevice is there, the PortAudio library is not
        raise UsageError(PORTAUDIO_MISSING) from None
    except ImportError:
        raise UsageError("the microphone needs the sounddevice package: "
                         "pip install sounddevice") from None
    except Exception as exc:  # PortAudio is there but cannot start: a broken ALSA configuration
        reason = str(exc).split("[", 1)[0].strip().rstrip(":")
        raise AudioError(f"the sound system cannot start ({reason}); check ~/.asoundrc") from None
    return sounddevice


@dataclasses.dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    channels: int  # most input channels it offers
    default_rate: int
    default: bool  # the system's default input

    def record(self) -> dict:
        """The JSON Lines record of `asrx devices --json`."""
        return dataclasses.asdict(self)

    def line(self) -> str:
        mark = "*" if self.default else " "
        return (f"{mark} {self.index:>2}  {self.name}  ({self.hostapi}, "
                f"{self.channels} ch, {self.default_rate} Hz)")


def input_devices(sd) -> List[InputDevice]:
    try:
        return _query_input_devices(sd)
    except sd.PortAudioError as exc:
        raise AudioError(f"PortAudio cannot list the input devices: {exc}") from None


def _query_input_devices(sd) -> List[InputDevice]:
    hostapis = sd.query_hostapis()
    default = _default_input(sd)
    return [
        InputDevice(index=info["index"], name=info["name"],
                    hostapi=hostapis[info["hostapi"]]["name"],
                    channels=info["max_input_channels"],
                    default_rate=int(info["default_samplerate"]),
                    default=info["index"] == default)
        for info in sd.query_devices()
        if info["max_input_channels"] > 0
    ]


def _default_input(sd) -> Optional[int]:
    try:
        return sd.query_devices(kind="input")["index"]
    except (sd.PortAudioError, ValueError):
        return None


def find_input_device(devices: List[InputDevice], spec: Optional[str]) -> InputDevice:
    """The device an index or a part of its name designates; None designates the default.

    A part of a name matches case-insensitively; a name given in full wins
    over the longer names it is part of.
    """
    if not devices:
        raise UsageError("no input device found (is a microphone connected, and may asrx use it?)")
    if spec is None:
        chosen = [device for device in devices if device.default]
        if not chosen:
            raise UsageError("no default input device: "
                             f"choose one with --device ({_listing(devices)})")
        return chosen[0]
    if spec.strip().isdigit():
        chosen = [device for device in devices if device.index == int(spec)]
        if not chosen:
            raise UsageError(f"no input device has index {spec} ({_listing(devices)})")
        return chosen[0]
    wanted = spec.casefold()
    chosen = [device for device in devices if device.name.casefold() == wanted]
    chosen = chosen or [device for device in devices if wanted in device.name.casefold()]
    if not chosen:
        raise UsageError(f"no input device matches {spec!r} ({_listing(devices)})")
    if len(chosen) > 1:
        raise UsageError(f"{spec!r} matches several input devices ({_listing(chosen)}): "
                         "give more of the name, or the index")
    return chosen[0]


def _listing(devices: List[InputDevice]) -> str:
    return "input devices: " + ", ".join(f"{device.index} {device.name!r}" for device in devices)
