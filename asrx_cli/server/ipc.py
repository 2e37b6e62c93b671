"""Length-prefixed pickled messages between the server and its workers.

Both ends are this package, started by the server itself: pickle is safe
here because no other party writes to these pipes.
"""

import pickle
import struct

HEADER = struct.Struct(">I")


def encode(message) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def read_blocking(stream):
    """The next message from a binary file, or None at end of file."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    body = stream.read(length)
    if len(body) < length:
        return None
    return pickle.loads(body)


async def read_async(reader):
    """The next message from an asyncio StreamReader; raises IncompleteReadError at EOF."""
    header = await reader.readexactly(HEADER.size)
    (length,) = HEADER.unpack(header)
    return pickle.loads(await reader.readexactly(length))
