"""Conversion of any PCM to the wire's format: downmix, soxr resampling, s16le."""

import numpy as np

from asrx_cli.config import RawFormat
from asrx_cli.wire import SAMPLE_RATE

# numpy dtypes of headerless formats; s24le has none and is unpacked by hand.
RAW_DTYPES = {
    "s16le": "<i2", "s16be": ">i2", "s32le": "<i4", "f32le": "<f4", "f64le": "<f8",
    "u8": "u1", "s8": "i1",
}
RAW_WIDTHS = {"s24le": 3, **{name: np.dtype(dtype).itemsize for name, dtype in RAW_DTYPES.items()}}


def float_to_s16(samples: np.ndarray) -> np.ndarray:
    """Scale [-1, 1) floats to s16, clipping out-of-range values instead of wrapping."""
    scaled = np.rint(samples * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2")


def downmix(frames: np.ndarray) -> np.ndarray:
    """Average the channels of a (frames, channels) float array into one."""
    if frames.ndim == 1:
        return frames
    if frames.shape[1] == 1:
        return frames[:, 0]
    # Channel by channel: numpy's mean along a short axis is much slower.
    mono = frames[:, 0].astype(np.float32)
    for channel in range(1, frames.shape[1]):
        mono += frames[:, channel]
    mono *= np.float32(1.0 / frames.shape[1])
    return mono


class Converter:
    """Turns float blocks at any rate and channel count into 16 kHz mono s16le bytes.

    With `channels` > 1 (--channels split) the channels are kept apart: each is
    resampled on its own and the bytes are 16 kHz s16le frames of that many channels.
    """

    def __init__(self, rate: int, channels: int = 1):
        self.channels = channels
        self.resampler = None
        if rate != SAMPLE_RATE:
            import soxr  # only when resampling: 16 kHz input never needs it

            self.resampler = soxr.ResampleStream(rate, SAMPLE_RATE, channels, dtype="float32",
                                                 quality="HQ")

    def convert(self, frames: np.ndarray, last: bool = False) -> bytes:
        if self.channels > 1:
            samples = np.ascontiguousarray(frames.reshape(-1, self.channels), dtype=np.float32)
        else:
            samples = np.ascontiguousarray(downmix(frames), dtype=np.float32)
        if self.resampler is not None:
            samples = self.resampler.resample_chunk(samples, last=last)
        return float_to_s16(samples).tobytes()


def decode_raw(data: bytes, sample_format: str, channels: int) -> np.ndarray:
    """Headerless PCM bytes (whole frames) to a (frames, channels) float32 array."""
    if sample_format == "s24le":
        triples = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
        samples = values.astype(np.float32) / float(1 << 23)
    else:
        raw = np.frombuffer(data, dtype=RAW_DTYPES[sample_format])
        samples = _normalise(raw, sample_format)
    return samples.reshape(-1, channels)


def _normalise(raw: np.ndarray, sample_format: str) -> np.ndarray:
    if sample_format.startswith("f"):
        return raw.astype(np.float32)
    if sample_format == "u8":
        return (raw.astype(np.float32) - 128.0) / 128.0
    bits = raw.dtype.itemsize * 8
    return raw.astype(np.float32) / float(1 << (bits - 1))


def is_passthrough(fmt: RawFormat) -> bool:
    return fmt.sample_format == "s16le" and fmt.channels == 1 and fmt.rate == SAMPLE_RATE
