"""The microphone: an input device read with blocking reads, as arecord does.

The device is asked for the wire's format (16 kHz mono) first, which then goes
out bit-exact; a device that does not offer it is captured at its own rate and
channel count and converted as files are. The device's clock paces the audio.
"""

import logging
import threading
from typing import Callable, Optional, Tuple

import numpy as np

from asrx_cli.audio.convert import Converter
from asrx_cli.audio.input_devices import (
    InputDevice,
    find_input_device,
    import_sounddevice,
    input_devices,
)
from asrx_cli.audio.source import AudioSource, Blocks
from asrx_cli.errors import AudioError
from asrx_cli.wire import SAMPLE_RATE

log = logging.getLogger("asrx")

BLOCK_SECONDS = 0.05  # audio per read: the latency the microphone adds

# Called from the reading thread with the device's name and the block's peak level (0..1).
LevelCallback = Callable[[str, float], None]


def capture_settings(device: InputDevice, accepts: Callable[[int, int], bool],
                     split: int = 0) -> Tuple[int, int]:
    """(rate, channels) to open the device with: the wire's format where it is offered.

    `split` (--channels split): that many of the device's channels, each to be streamed on
    its own (a device may claim dozens it only makes up by copying).
    """
    wanted = min(split, device.channels)
    if wanted > 1:
        for rate in (SAMPLE_RATE, device.default_rate):
            if accepts(rate, wanted):
                return rate, wanted
    # Stereo at most: averaging the silent inputs of a many-channel interface would only lower
    # the level.
    candidates = [(SAMPLE_RATE, 1), (device.default_rate, min(device.channels, 2)),
                  (device.default_rate, 1), (device.default_rate, device.channels)]
    for rate, channels in candidates:
        if accepts(rate, channels):
            return rate, channels
    raise AudioError(f"input device {device.name!r} accepts neither 16 kHz mono nor its own "
                     f"{device.default_rate} Hz")


def open_microphone(spec: Optional[str], stop: threading.Event,
                    on_level: Optional[LevelCallback] = None, split: int = 0) -> AudioSource:
    """`split`: capture up to that many channels and keep them apart (AudioSource.channels)."""
    sd = import_sounddevice()
    device = find_input_device(input_devices(sd), spec)

    def accepts(rate: int, channels: int) -> bool:
        try:
            sd.check_input_settings(device=device.index, samplerate=rate, channels=channels,
                                    dtype="float32")
        except (sd.PortAudioError, ValueError):
            return False
        return True

    rate, channels = capture_settings(device, accepts, split)
    kept = channels if split > 1 else 1
    exact = rate == SAMPLE_RATE and channels == kept
    try:
        stream = sd.InputStream(device=device.index, samplerate=rate, channels=channels,
                                dtype="int16" if exact else "float32")
    except sd.PortAudioError as exc:
        raise AudioError(f"cannot open input device {device.name!r}: {exc}") from None
    description = (f"microphone {device.index} {device.name!r} "
                   f"({device.hostapi}, {rate} Hz, {channels} ch)")
    capture = Capture(stream, device.name, rate, exact, stop, on_level, kept)
    return AudioSource(description, None, capture.blocks(), stream.close, kept)


class Capture:
    """Reads the stream until a stop request, counting the overflows it reports."""

    def __init__(self, stream, name: str, rate: int, exact: bool, stop: threading.Event,
                 on_level: Optional[LevelCallback], kept: int = 1):
        import sounddevice  # already loaded: the stream is its

        self.device_error = sounddevice.PortAudioError
        self.stream = stream
        self.name = name
        self.frames_per_read = max(1, int(rate * BLOCK_SECONDS))
        self.kept = kept  # channels kept apart (--channels split), else 1: mixed down
        self.converter = None if exact else Converter(rate, kept)
        self.stop = stop
        self.on_level = on_level
        self.overflows = 0

    def blocks(self) -> Blocks:
        self.stream.start()  # not before: the device's buffer would overflow while connecting
        try:
            while not self.stop.is_set():
                yield self._convert(self._read())
            if self.converter is not None:
                yield self.converter.convert(np.zeros((0, self.kept), np.float32), last=True)
        finally:
            self.stream.stop()
            if self.overflows:
                log.warning("%d input overflow%s in all: %s", self.overflows,
                            "s" if self.overflows > 1 else "", OVERFLOW_EFFECT)

    def _read(self) -> np.ndarray:
        try:
            frames, overflowed = self.stream.read(self.frames_per_read)
        except self.device_error as exc:
            raise AudioError(f"reading input device {self.name!r} failed: {exc}") from None
        if overflowed:
            self.overflows += 1
            if self.overflows == 1:
                log.warning("input overflow: %s", OVERFLOW_EFFECT)
        if self.on_level is not None:
            self.on_level(self.name, peak_level(frames))
        return frames

    def _convert(self, frames: np.ndarray) -> bytes:
        if self.converter is None:
            return frames.astype("<i2", copy=False).tobytes()
        return self.converter.convert(frames)


OVERFLOW_EFFECT = "the machine did not keep up with the microphone and some audio was lost"


def peak_level(frames: np.ndarray) -> float:
    """The block's loudest sample, 0..1, whether int16 or float."""
    if not frames.size:
        return 0.0
    peak = max(float(frames.max()), -float(frames.min()))  # np.abs would wrap int16's -32768
    return min(peak / 32768.0, 1.0) if frames.dtype.kind == "i" else min(peak, 1.0)
