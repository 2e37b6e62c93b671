"""A receiving ASRX server for the benchmarks, run as a process of its own.

Run in a subprocess so that its CPU never counts against the client under
test, and so that every arrival is stamped by the receiving side. It takes any
API key, records when each audio frame arrives (time.monotonic, the
system-wide CLOCK_MONOTONIC, so the bench can compare stamps across
processes), answers the end-of-stream message with the end marker, and can
send a script of sentences at known times (for result latency). The
WebSocket side is bench/wsframes.py, which takes frames faster than any
client sends them.

    python bench/sink.py [--frame-times] [--sentences N --every SECONDS --partials K]

stdout: "listening PORT", then one JSON line per finished connection. It
stops on SIGTERM or when its stdin closes (the bench went away).
"""

import argparse
import asyncio
import json
import signal
import sys
import threading
import time
from array import array
from urllib.parse import parse_qs, urlsplit

from wsframes import SinkProtocol

END_MARKER = json.dumps({"type": "realtime", "text": "end_of_process"})
# Thai, as the service sends it: multi-byte UTF-8 with combining marks.
SENTENCE_WORDS = ["สวัสดีครับ", "ผมเสียงผู้ใหญ่", "ผู้ชายครับ", "วันนี้อากาศดี"]


def sentence_text(index: int, words: int) -> str:
    """Text of sentence `index` after `words` words: unique per sentence, so lines match messages."""
    body = " ".join(SENTENCE_WORDS[(index + w) % len(SENTENCE_WORDS)] for w in range(words))
    return f"{index:05d} {body}"


def build_script(sentences: int, every: float, partials: int):
    """(seconds after the first audio frame, sentence, state, text), in time order.

    Each sentence opens with NewSentence (the first with Sentence), then grows
    by partial Sentence messages; the next NewSentence makes it final.
    """
    script = []
    for index in range(sentences):
        start = (index + 1) * every
        state = "NewSentence" if index else "Sentence"
        script.append((start, index, state, sentence_text(index, 1)))
        for step in range(1, partials + 1):
            at = start + every * step / (partials + 1)
            script.append((at, index, "Sentence", sentence_text(index, step + 1)))
    return script


def is_end_of_stream(text: str) -> bool:
    try:
        message = json.loads(text)
    except ValueError:
        return False
    data = message.get("data", message) if isinstance(message, dict) else None
    return isinstance(data, dict) and data.get("status") == "CloseConnection"


class Connection(SinkProtocol):
    """What one client did, stamped on arrival."""

    def __init__(self, frame_times: bool, script):
        super().__init__(time.monotonic)
        self.frame_times = frame_times
        self.script = script
        self.tag = ""
        self.opened = None
        self.arrivals = array("d")
        self.sizes = array("l")
        self.frames = 0
        self.bytes = 0
        self.first_frame = None
        self.last_frame = None
        self.end_of_stream = None
        self.end_marker_sent = None
        self.closed_at = None
        self.sent = []  # (sentence, state, text, monotonic time just before sending)
        self.player = None

    def on_open(self, path: str):
        self.opened = time.monotonic()
        self.tag = parse_qs(urlsplit(path).query).get("tag", [""])[0]

    def on_binary(self, size: int, stamp: float):
        if self.first_frame is None:
            self.first_frame = stamp
            if self.script:
                self.player = asyncio.ensure_future(self.play())
        self.last_frame = stamp
        self.frames += 1
        self.bytes += size
        if self.frame_times:
            self.arrivals.append(stamp)
            self.sizes.append(size)

    def on_text(self, text: str, stamp: float):
        if not is_end_of_stream(text):
            return
        self.end_of_stream = stamp
        if self.player is not None:
            self.player.cancel()
        self.end_marker_sent = time.monotonic()
        self.send_text(END_MARKER)

    def on_closed(self, stamp: float):
        if self.player is not None:
            self.player.cancel()
        self.closed_at = stamp
        print(json.dumps(self.summary()), flush=True)

    async def play(self):
        """Send the script on its own clock, measured from the first audio frame."""
        loop = asyncio.get_running_loop()
        # The loop's clock is time.monotonic, so a deadline is a plain stamp.
        for at, index, state, text in self.script:
            delay = self.first_frame + at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            message = json.dumps({"type": "realtime", "state": state, "text": text}, ensure_ascii=False)
            self.sent.append((index, state, text, time.monotonic()))
            self.send_text(message)

    def summary(self) -> dict:
        return {
            "tag": self.tag, "opened": self.opened, "frames": self.frames, "bytes": self.bytes,
            "first_frame": self.first_frame, "last_frame": self.last_frame,
            "end_of_stream": self.end_of_stream, "end_marker_sent": self.end_marker_sent,
            "closed": self.closed_at, "arrivals": list(self.arrivals), "sizes": list(self.sizes),
            "sent": self.sent,
        }


async def main(options):
    script = build_script(options.sentences, options.every, options.partials) if options.sentences else []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    threading.Thread(target=_stop_on_stdin_eof, args=(loop, stop), daemon=True).start()
    server = await loop.create_server(lambda: Connection(options.frame_times, script), "127.0.0.1", 0)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await stop.wait()


def _stop_on_stdin_eof(loop, stop):
    sys.stdin.read()
    loop.call_soon_threadsafe(stop.set)


def parse_options(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame-times", action="store_true", help="record each audio frame's arrival")
    parser.add_argument("--sentences", type=int, default=0, help="scripted sentences per connection")
    parser.add_argument("--every", type=float, default=0.1, help="seconds between sentences")
    parser.add_argument("--partials", type=int, default=0, help="partial messages within each sentence")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_options()))
