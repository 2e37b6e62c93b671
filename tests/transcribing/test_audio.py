"""Audio decoding and conversion, on real files written with libsndfile."""

import io
import struct
import threading

import numpy as np
import pytest
import soundfile
import soxr

from asrx_cli.audio import (
    ByteReader,
    decode_raw,
    float_to_s16,
    open_source,
    raw_blocks,
    read_wav_header,
)
from asrx_cli.audio.readahead import cut_frames
from asrx_cli.audio.source import FILE_BLOCK_SECONDS
from asrx_cli.config import RawFormat
from asrx_cli.errors import AudioError
from tests.support.audio import noise, snr_db, tones, write_audio

S16 = RawFormat()


def pcm_of(source) -> np.ndarray:
    return np.frombuffer(b"".join(source.blocks), dtype="<i2")


def open_path(path, raw=S16, given=False, stdin=None):
    return open_source(str(path), raw, given, stdin or io.BytesIO(), threading.Event())


def test_float_to_s16_clips_instead_of_wrapping():
    out = float_to_s16(np.array([1.5, 1.0, 0.99999, -1.0, -3.0, 0.5], dtype=np.float32))
    assert out.tolist() == [32767, 32767, 32767, -32768, -32768, 16384]


def test_frames_are_cut_exact_a_batch_per_block_and_keep_every_byte():
    blocks = [b"a" * 700, b"b" * 100, b"c" * 1500, b"d" * 1]
    batches = list(cut_frames(blocks, 1024))
    assert [[len(f) for f in batch] for batch in batches] == [[1024, 1024], [253]]
    assert b"".join(b"".join(batch) for batch in batches) == b"".join(blocks)


@pytest.mark.parametrize("sample_format,dtype,scale", [
    ("s16le", "<i2", 32768), ("s16be", ">i2", 32768), ("s32le", "<i4", 2 ** 31),
    ("f32le", "<f4", 1), ("f64le", "<f8", 1), ("s8", "i1", 128),
])
def test_decode_raw_formats(sample_format, dtype, scale):
    values = np.array([0, 1, -1, 5], dtype=np.float64) * (scale / 8 if scale > 1 else 0.125)
    data = values.astype(dtype).tobytes()
    decoded = decode_raw(data, sample_format, 2)
    assert decoded.shape == (2, 2)
    np.testing.assert_allclose(decoded.ravel(), values / scale, rtol=1e-6)


def test_decode_raw_s24le_and_u8():
    triples = b"".join(v.to_bytes(3, "little", signed=True)
                       for v in (0, 2 ** 22, -(2 ** 22), -(2 ** 23)))
    assert decode_raw(triples, "s24le", 1).ravel().tolist() == [0.0, 0.5, -0.5, -1.0]
    assert decode_raw(bytes([128, 192, 64, 0]), "u8", 1).ravel().tolist() == [0.0, 0.5, -0.5, -1.0]


def test_16k_mono_wav_is_sent_bit_exact(tmp_path):
    samples = noise(2.0)
    source = open_path(write_audio(tmp_path / "a.wav", samples, 16000, subtype="PCM_16"))
    assert source.duration == pytest.approx(2.0)
    assert pcm_of(source).tobytes() == samples.tobytes()


def test_raw_file_is_sent_bit_exact(tmp_path):
    samples = noise(1.3)
    path = tmp_path / "a.pcm"
    path.write_bytes(samples.tobytes())
    source = open_path(path)
    assert source.duration == pytest.approx(1.3)
    assert pcm_of(source).tobytes() == samples.tobytes()


@pytest.mark.parametrize("fmt,subtype,rate,channels", [
    ("FLAC", "PCM_16", 44100, 2), ("WAV", "FLOAT", 48000, 1), ("WAV", "PCM_24", 22050, 2),
    ("WAV", "PCM_U8", 8000, 1), ("OGG", "VORBIS", 44100, 2), ("OGG", "OPUS", 48000, 1),
    ("MP3", "MPEG_LAYER_III", 44100, 2), ("AIFF", "PCM_16", 32000, 1),
])
def test_other_formats_are_downmixed_and_resampled_to_16k(tmp_path, fmt, subtype, rate, channels):
    signal = tones(2.0, rate, channels)
    path = write_audio(tmp_path / f"a.{fmt.lower()}", signal, rate, format=fmt, subtype=subtype)
    pcm = pcm_of(open_path(path))
    # Against the file as libsndfile decodes it, downmixed and resampled in one go:
    # streaming conversion must not add audible error (60 dB SNR).
    decoded, _ = soundfile.read(path, dtype="float32", always_2d=True)
    reference = soxr.resample(decoded.mean(axis=1), rate, 16000) * 32768
    assert abs(len(pcm) - len(reference)) <= 2
    assert snr_db(reference, pcm) > 60
    if subtype not in ("VORBIS", "OPUS", "MPEG_LAYER_III"):
        # Lossless: the original tones survive (8-bit input itself carries only ~38 dB).
        mono = signal if channels == 1 else signal.mean(axis=1)
        original = soxr.resample(mono, rate, 16000) * 32768
        assert snr_db(original, pcm) > (35 if subtype == "PCM_U8" else 60)


def test_wav_header_from_a_stream_like_arecord_writes_it():
    body = noise(0.1).tobytes()
    header = (b"RIFF" + struct.pack("<I", 0x7FFFFFFF) + b"WAVE"
              + b"LIST" + struct.pack("<I", 3) + b"abc\0"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
              + b"data" + struct.pack("<I", 0x7FFFFFFF))
    reader = ByteReader(io.BytesIO(header + body))
    parsed = read_wav_header(reader, "stdin")
    assert parsed.format == RawFormat(16000, 1, "s16le") and parsed.data_size is None
    assert b"".join(raw_blocks(reader, parsed.format)) == body


def test_stdin_raw_with_other_rate_channels_and_format():
    stereo = tones(1.0, 8000, 2)
    data = stereo.astype("<f4").tobytes()
    source = open_path("-", RawFormat(8000, 2, "f32le"), True, stdin=io.BytesIO(data))
    pcm = pcm_of(source)
    reference = soxr.resample(stereo.mean(axis=1), 8000, 16000) * 32768
    assert abs(len(pcm) - 16000) <= 2
    assert snr_db(reference, pcm) > 60


def test_stdin_odd_sized_pieces_are_realigned():
    samples = noise(0.5)

    class Trickle(io.RawIOBase):
        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def read1(self, size):  # 3 bytes at a time: never sample-aligned
            piece, self.data = self.data[:3], self.data[3:]
            return piece

        read = read1

    source = open_path("-", stdin=Trickle(samples.tobytes()))
    assert pcm_of(source).tobytes() == samples.tobytes()


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        open_path(tmp_path / "nope.wav")


def test_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("hello, I am text\n" * 20)
    with pytest.raises(AudioError, match="not a readable audio file"):
        open_path(path)


def test_empty_audio_file_and_empty_raw_and_empty_stdin(tmp_path):
    with pytest.raises(AudioError, match="no audio"):
        open_path(write_audio(tmp_path / "empty.wav", np.zeros(0, np.int16), 16000))
    (tmp_path / "empty.pcm").write_bytes(b"")
    with pytest.raises(AudioError, match="no audio"):
        open_path(tmp_path / "empty.pcm")
    with pytest.raises(AudioError, match="no audio"):
        open_path("-", stdin=io.BytesIO(b""))


def test_truncated_wav_yields_what_is_there_then_fails(tmp_path):
    path = tmp_path / "cut.wav"
    write_audio(path, noise(2.0), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    source = open_path(path)
    received = []
    with pytest.raises(AudioError, match="truncated: 1.00 s of 2.00 s"):
        for block in source.blocks:
            received.append(block)
    assert len(b"".join(received)) == len(data[44: len(data) // 2])


def test_corrupt_flac_reports_where_decoding_failed(tmp_path):
    path = tmp_path / "cut.flac"
    write_audio(path, noise(3.0), 16000, format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="decoding failed after"):
        list(open_path(path).blocks)


def test_a_file_closed_halfway_stops_its_reader_thread_first(tmp_path):
    # libsndfile decodes ahead in a thread of its own: closing the source stops that thread
    # before the file is closed under it.
    path = write_audio(tmp_path / "long.flac", noise(30.0, rate=44100, channels=2), 44100,
                       format="FLAC")
    source = open_path(path)
    first = next(iter(source.blocks))
    assert 0 < len(first) <= FILE_BLOCK_SECONDS * 16000 * 2  # one block, not the file
    assert "asrx-file-reader" in {thread.name for thread in threading.enumerate()}
    source.close()
    assert "asrx-file-reader" not in {thread.name for thread in threading.enumerate()}


def test_a_cut_flac_goes_out_up_to_the_damage_not_only_to_the_last_whole_block(tmp_path):
    path = tmp_path / "cut.flac"
    audio = noise(14.0)
    write_audio(path, audio, 16000, format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # about 9.3 s left: the third 4 s block is cut
    received = []
    with pytest.raises(AudioError, match="decoding failed after 9"):
        for block in open_path(path).blocks:
            received.append(block)
    sent = b"".join(received)
    assert len(sent) > 9 * 32000 and sent == audio.tobytes()[:len(sent)]


def test_compressed_stream_on_stdin_is_refused_clearly(tmp_path):
    path = write_audio(tmp_path / "a.flac", noise(0.5), 16000, format="FLAC")
    with open(path, "rb") as stream:
        with pytest.raises(AudioError, match="FLAC data can only be read from a file"):
            open_path("-", stdin=io.BytesIO(stream.read()))


def test_raw_options_are_refused_for_files_with_a_header(tmp_path):
    path = write_audio(tmp_path / "a.wav", noise(0.5), 16000)
    with pytest.raises(AudioError, match="--raw-"):
        open_path(path, RawFormat(8000), True)


def test_memory_stays_flat_reading_a_long_file(tmp_path):
    # 10 minutes of 16 kHz audio: blocks come out one at a time, never the whole file.
    path = tmp_path / "long.wav"
    with soundfile.SoundFile(str(path), "w", 16000, 1, "PCM_16") as out:
        block = noise(10.0)
        for _ in range(60):
            out.write(block)
    source = open_path(path)
    largest = max(len(block) for block in source.blocks)
    assert largest <= FILE_BLOCK_SECONDS * 16000 * 2  # one block (4 s) at most, whatever the length
