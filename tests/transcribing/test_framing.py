"""Audio frames as asrx writes them itself, byte for byte what websocket-client would write."""

import os

import pytest
import websocket

from asrx_cli.net.connection import Connection, masked_ahead, masked_frame
from tests.support import API_KEY


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1024, 65535, 65536, 70001])
def test_audio_frames_are_framed_as_websocket_client_frames_them(size):
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    mask = b"\x9a\x03\xf1\x44"
    reference = websocket.ABNF.create_frame(payload, websocket.ABNF.OPCODE_BINARY)
    reference.get_mask_key = lambda length: mask
    assert masked_frame(websocket.ABNF.OPCODE_BINARY, payload, mask) == reference.format()


def unmasked(wire: bytes) -> bytes:
    """The payload of one masked binary frame of at most 65535 bytes."""
    assert wire[0] == 0x80 | websocket.ABNF.OPCODE_BINARY and wire[1] & 0x80
    start = 4 + 4 if wire[1] & 0x7F == 126 else 2 + 4
    return websocket.ABNF.mask(wire[start - 4:start], wire[start:])


def test_frames_masked_ahead_carry_their_audio_once_each_with_a_key_of_its_own():
    audio = [bytes(range(256)) * 4, bytes(1024), b"\x01\x02" * 100]
    [frames] = list(masked_ahead([audio]))
    assert frames == audio  # still the audio, for the replay buffer and the recording
    wires = [frame.take_wire() for frame in frames]
    assert [unmasked(wire) for wire in wires] == audio
    assert len({wire[4:8] for wire in wires[:2]}) == 2  # masks: two keys, not one reused
    assert [frame.take_wire() for frame in frames] == [None] * 3  # sent again: masked anew


def test_a_batch_of_whole_frames_is_masked_as_each_alone_would_be():
    audio = [os.urandom(1024) for _ in range(40)]
    [frames] = list(masked_ahead([audio]))
    wires = [frame.take_wire() for frame in frames]
    assert wires == [masked_frame(websocket.ABNF.OPCODE_BINARY, chunk, wire[4:8])
                     for chunk, wire in zip(audio, wires)]
    assert len({wire[4:8] for wire in wires}) == 40


def test_a_frame_sent_twice_reaches_the_server_whole_both_times(server):
    audio = [bytes(range(256)) * 4, b"\x7f\x00" * 512]
    [frames] = list(masked_ahead([audio]))
    connection = Connection.open(server.url, API_KEY, None, 5.0, 5.0)
    for frame in [*frames, frames[0]]:  # the first again, as after a reconnect
        connection.send_audio(frame)
    connection.send_end_of_stream()
    assert connection.recv(5.0) is not None  # the end marker: every frame before it was read
    connection.close()
    assert bytes(server.record.wait_finished().audio) == audio[0] + audio[1] + audio[0]
