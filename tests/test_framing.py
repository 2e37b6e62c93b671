"""Audio frames as asrx writes them itself, byte for byte what websocket-client would write."""

import pytest
import websocket

from asrx_cli.connection import masked_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1024, 65535, 65536, 70001])
def test_audio_frames_are_framed_as_websocket_client_frames_them(size):
    payload, mask = bytes(range(256)) * (size // 256) + bytes(range(size % 256)), b"\x9a\x03\xf1\x44"
    reference = websocket.ABNF.create_frame(payload, websocket.ABNF.OPCODE_BINARY)
    reference.get_mask_key = lambda length: mask
    assert masked_frame(websocket.ABNF.OPCODE_BINARY, payload, mask) == reference.format()
