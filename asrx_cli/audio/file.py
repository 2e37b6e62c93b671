"""Files libsndfile reads: WAV, FLAC, Ogg, Opus, MP3, AIFF..."""

from typing import Iterator

import numpy as np

from asrx_cli.audio.convert import RAW_WIDTHS, Converter
from asrx_cli.audio.decoder_notes import decoder_notes_logged
from asrx_cli.audio.raw import ByteReader
from asrx_cli.audio.readahead import ReadAhead
from asrx_cli.audio.source import FILE_BLOCK_SECONDS, AudioSource, Blocks, open_binary, truncated
from asrx_cli.audio.wav import read_wav_header
from asrx_cli.errors import AudioError
from asrx_cli.wire import SAMPLE_RATE

# libsndfile decodes in a thread of its own, blocks ahead of the conversion: it
# releases the GIL, so a FLAC or Ogg file decodes while the last block is
# converted, cut and sent (figure 3 of bench/README.md measures the gain).
DECODED_AHEAD = 2
SALVAGE_STEP_SECONDS = 0.1  # where a block fails to decode, how much of it may be lost


def open_sound_file(path: str, start: float = 0.0, split: bool = False) -> AudioSource:
    """The file from `start` seconds on (a resumed transcription); `split`: the channels kept
    apart (AudioSource.channels), else mixed down to one."""
    import soundfile  # loads libsndfile: not for raw input, stdin or the microphone

    stream = open_binary(path)
    stream.close()  # only to report a missing or unreadable file in plain words
    try:
        with decoder_notes_logged():
            sound = soundfile.SoundFile(path)
    except (soundfile.SoundFileError, RuntimeError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({libsndfile_reason(exc)})") from None
    if sound.frames == 0:
        sound.close()
        raise AudioError(f"{path}: no audio (zero samples)")
    declared = _declared_frames(path, sound)
    first = min(int(start * sound.samplerate), declared)
    if first:
        sound.seek(min(first, sound.frames))
    description = f"{path} ({sound.format_info}, {sound.samplerate} Hz, {sound.channels} ch)"
    channels = sound.channels if split else 1
    return AudioSource(description, (declared - first) / sound.samplerate,
                       _sound_file_blocks(sound, path, declared, first, channels), sound.close,
                       channels)


def _sound_file_blocks(sound, path: str, declared: int, first: int,
                       channels: int) -> Blocks:
    import soundfile  # loaded already by open_sound_file; named here for its errors

    # 16 kHz 16-bit files go out bit-exact (mono, or channels kept); everything else through float.
    exact = (sound.samplerate == SAMPLE_RATE and sound.channels == channels
             and sound.subtype == "PCM_16")
    converter = None if exact else Converter(sound.samplerate, channels)
    block = max(1, int(sound.samplerate * FILE_BLOCK_SECONDS))
    dtype = "int16" if exact else "float32"
    got = first  # frames of the file read, counting those before the start
    try:
        reads = _reads(sound, path, first, block, dtype, always_2d=not exact)
        with ReadAhead(reads, DECODED_AHEAD, name="asrx-file-reader") as decoded:
            for frames in decoded:
                got += len(frames)
                if converter is None:
                    yield frames.astype("<i2", copy=False).tobytes()
                else:
                    yield converter.convert(frames)
    except (soundfile.SoundFileError, RuntimeError) as exc:
        raise AudioError(f"{path}: decoding failed after {got / sound.samplerate:.2f} s "
                         f"({libsndfile_reason(exc)})") from None
    if converter is not None:
        yield converter.convert(np.zeros((0, channels), np.float32), last=True)
    if got < declared:
        raise truncated(path, got / sound.samplerate, declared / sound.samplerate)


def _reads(sound, path: str, start: int, block: int, dtype: str, always_2d: bool) -> Iterator[list]:
    """The file's blocks as libsndfile decodes them, each a batch of one.

    A block that fails to decode is read again in small steps, from a fresh
    decoder: a damaged or cut file goes out up to the damage, not only up to
    the last whole block.
    """
    import soundfile  # loaded already by open_sound_file; named here for its errors

    try:  # start: where the next block starts, in frames
        for batch in _decoded(sound, block, dtype, always_2d):
            start += len(batch[0])
            yield batch
    except (soundfile.SoundFileError, RuntimeError):
        yield from _up_to_the_damage(path, start, dtype, always_2d)
        raise


def _up_to_the_damage(path: str, start: int, dtype: str, always_2d: bool) -> Iterator[list]:
    import soundfile

    try:
        with soundfile.SoundFile(path) as again:
            again.seek(start)
            step = max(1, int(again.samplerate * SALVAGE_STEP_SECONDS))
            yield from _decoded(again, step, dtype, always_2d)
    except (soundfile.SoundFileError, RuntimeError):
        return  # the damage: the caller raises the first error


def _decoded(sound, frames_per_read: int, dtype: str, always_2d: bool) -> Iterator[list]:
    """What libsndfile decodes from where `sound` is, `frames_per_read` at a time, each a batch
    of one."""
    while len(frames := sound.read(frames_per_read, dtype=dtype, always_2d=always_2d)):
        yield [frames]


def _declared_frames(path: str, sound) -> int:
    """Frames the header promises; for WAV, libsndfile silently trims this to the file size."""
    if sound.format not in ("WAV", "WAVEX"):
        return sound.frames
    with open(path, "rb") as stream:
        try:
            header = read_wav_header(ByteReader(stream), path)
        except AudioError:
            return sound.frames
    if header.data_size is None:
        return sound.frames
    frame_bytes = RAW_WIDTHS.get(header.format.sample_format, 2) * header.format.channels
    return max(sound.frames, header.data_size // frame_bytes)


def libsndfile_reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # libsndfile prefixes "Error opening 'path': "; the path is already in our message.
    reason = text.split(": ", 1)[-1].rstrip(".").lower() if text.startswith("Error") else text
    # What libsndfile says of a file its MP3 decoder finds no frame in, though it was opened.
    if reason.startswith("file does not exist or is not a regular file"):
        return "format not recognised, or damaged"
    return reason
