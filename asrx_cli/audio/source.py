"""What every audio source is: a stream of 16 kHz mono s16le blocks (or interleaved channels)."""

import dataclasses
from typing import Callable, Generator, Optional

from asrx_cli.audio.convert import RAW_WIDTHS
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError

Blocks = Generator[bytes, None, None]  # 16 kHz s16le blocks, read as they are asked for

# Files are read in long blocks: soundfile asks libsndfile where it is and
# seeks there again around every read, which costs a FLAC or Ogg decoder part
# of a block's decoding, and each block handed over wakes two threads
# (bench/README.md, figure 3, says how much).
FILE_BLOCK_SECONDS = 4.0
STOP_POLL_SECONDS = 0.1  # how often a reader waiting on input or a queue looks at its stop flag


@dataclasses.dataclass
class AudioSource:
    """A stream of 16 kHz mono s16le blocks, with what is known about it.

    Opened for --channels split, a source of several channels keeps them:
    its blocks are 16 kHz s16le frames of `channels` interleaved samples.
    """

    description: str
    duration: Optional[float]  # seconds, when known in advance
    blocks: "Blocks"  # a generator: closing it stops the reading
    release: Optional[Callable[[], None]] = None  # closes the file, read or not
    channels: int = 1

    def close(self):
        self.blocks.close()
        if self.release is not None:
            self.release()


def open_binary(path: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path}: is a directory") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot open ({exc.strerror})") from None


def truncated(name: str, seconds_read: float, seconds_declared: float) -> AudioError:
    return AudioError(f"{name}: truncated: "
                      f"{seconds_read:.2f} s of {seconds_declared:.2f} s could be read")


def describe(fmt: RawFormat) -> str:
    return f"{fmt.sample_format}, {fmt.rate} Hz, {fmt.channels} ch"


def duration_of(size: Optional[int], fmt: RawFormat) -> Optional[float]:
    if size is None:
        return None
    return size / (RAW_WIDTHS[fmt.sample_format] * fmt.channels * fmt.rate)
