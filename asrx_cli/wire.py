"""The facts of the ASRX wire, defined once (see docs/protocol.md).

`asrx transcribe`, `asrx serve`, the bench and the tests import these; none
of them writes a marker, a state or the audio format out again.
"""

# Audio: binary frames of 16 kHz mono signed 16-bit little-endian PCM.
SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2  # bytes, s16le
CHANNELS = 1
BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS
FRAME_BYTES = 1024  # what the documented client sends: 512 samples, 32 ms

# The handshake header that carries the key.
API_KEY_HEADER = "apikey"

# Client to server, after the last audio frame, as the documented client sends it.
END_OF_STREAM = {"data": {"status": "CloseConnection"}}
# The prose speaks of a status "end of stream": servers accept both, in any
# case and spacing (compared with only letters and digits kept, lower case).
END_OF_STREAM_STATUSES = frozenset({"closeconnection", "endofstream"})

# Server to client.
MESSAGE_TYPE = "realtime"
SENTENCE = "Sentence"  # the whole current hypothesis of the open sentence
NEW_SENTENCE = "NewSentence"  # the previous sentence is over; this one starts
# State spellings a client accepts, folded to lower case and stripped.
SENTENCE_STATES = frozenset({"sentence"})
NEW_SENTENCE_STATES = frozenset({"newsentence", "new sentence"})
END_OF_PROCESS = "end_of_process"  # the prose's end marker
CONFIRM_CLOSE = "Confirm Close Connection"  # the documented clients' end marker
END_MARKERS = frozenset({END_OF_PROCESS, CONFIRM_CLOSE})
END_MARKER = {"type": MESSAGE_TYPE, "text": END_OF_PROCESS}  # what asrx serve sends


def realtime(state: str, text: str) -> dict:
    """A server's hypothesis message."""
    return {"type": MESSAGE_TYPE, "state": state, "text": text}


def is_end_of_stream(message: dict) -> bool:
    """Whether a client's JSON message ends its audio (top level or under "data")."""
    data = message.get("data")
    statuses = [message.get("status")]
    if isinstance(data, dict):
        statuses.append(data.get("status"))
    return any(_folded(status) in END_OF_STREAM_STATUSES for status in statuses)


def _folded(value) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value.lower() if ch.isalnum())
