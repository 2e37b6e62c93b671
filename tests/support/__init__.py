"""What the tests share: servers, audio and speech makers, ways to run asrx.

- `scripted`: a scripted ASRX server (websockets) that answers as a test says;
- `rawserver`: hostile servers on raw sockets;
- `tcp_proxy`: a TCP proxy that cuts, stalls or delays a connection;
- `serving`: `asrx serve` in a thread, and what a test asks it;
- `speech`, `utterances`: real speech (LibriVox, espeak-ng) and layouts of it;
- `audio`: noise, tones, files, and comparisons of audio;
- `run`: asrx through click's runner, or the installed `asrx` in a subprocess;
- `terminal`: a pseudo-terminal for a subprocess;
- `batch_files`: folders of recordings for batch tests.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the checkout the tests run from
API_KEY = "test-key-5f3a9c"
