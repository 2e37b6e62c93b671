"""--channels split: each channel's transcript labelled, all channels into one output.

Every channel's session renders through a `Labelled` renderer of its own;
they all write through one `SharedOutput`, whose lock keeps the lines of
different channels whole and in the order their sentences became final.

- text: each line starts with the channel's label (`agent: ...`);
- json: every event and record carries "channel" (its index) and "speaker";
- raw: each server frame is prefixed with the label;
- srt/vtt: one timeline across channels (output/channel_subtitles.py).
"""

import dataclasses
import json
import threading
from typing import List, Optional, TextIO, Union

from asrx_cli.output.factory import make_renderer
from asrx_cli.output.render import Renderer, event_record
from asrx_cli.transcript.events import Event, Final, Partial


def channel_names(given: List[str], channels: int) -> List[str]:
    """The labels of `channels` channels: those given, else 1, 2, ..."""
    return list(given) if given else [str(index + 1) for index in range(channels)]


class SharedOutput:
    """The one output of all channels; every write holds its lock."""

    def __init__(self, output_format: str, out: TextIO, live: bool, partials: bool, columns: int,
                 channels: int, line_width: Optional[int] = None, cue_lines: int = 2):
        self.format = output_format
        self.partials = partials
        self.lock = threading.Lock()
        if output_format in ("srt", "vtt"):
            from asrx_cli.output.channel_subtitles import ChannelSubtitles
            from asrx_cli.output.subtitles import CueStyle

            style = CueStyle(line_width, cue_lines)
            self.inner: Renderer = ChannelSubtitles(out, output_format, channels, style)
        else:
            self.inner = make_renderer(output_format, out, live, partials, columns)

    def event(self, index: int, name: str, event: Event):
        if not isinstance(event, (Partial, Final)):
            return
        with self.lock:
            if self.format == "json":
                record = event_record(event)
                if record["type"] == "final" or self.partials:
                    self._json({**record, "channel": index, "speaker": name})
            elif self.format in ("srt", "vtt"):
                if isinstance(event, Final):
                    self.inner.add(index, name, event)  # type: ignore[attr-defined]
            else:
                self.inner.event(dataclasses.replace(event, text=f"{name}: {event.text}"))

    def frame(self, name: str, frame: Union[str, bytes]):
        if self.format == "raw" and isinstance(frame, str):
            with self.lock:
                line = frame.replace("\r", "\\r").replace("\n", "\\n")
                self.inner.write(f"{name}: {line}\n")

    def record(self, record: dict):
        with self.lock:
            if self.format == "json":
                self._json(record)

    def progress(self, index: int, horizon: float):
        """No sentence of channel `index` still to come starts before `horizon` (seconds)."""
        if self.format in ("srt", "vtt"):
            with self.lock:
                self.inner.progress(index, horizon)  # type: ignore[attr-defined]

    def channel_done(self, index: int):
        if self.format in ("srt", "vtt"):
            with self.lock:
                self.inner.channel_done(index)  # type: ignore[attr-defined]

    def close(self):
        with self.lock:
            self.inner.close()

    def _json(self, record: dict):
        self.inner.write(json.dumps(record, ensure_ascii=False) + "\n")


class Labelled(Renderer):
    """One channel's renderer: what its session renders, labelled, into the shared output."""

    def __init__(self, shared: SharedOutput, index: int, name: str):
        super().__init__(shared.inner.out)
        self.shared = shared
        self.index = index
        self.name = name

    def event(self, event: Event):
        self.shared.event(self.index, self.name, event)

    def frame(self, frame: Union[str, bytes]):
        self.shared.frame(self.name, frame)

    def record(self, record: dict):
        self.shared.record({**record, "channel": self.index, "speaker": self.name})

    def close(self):
        """This channel is done; the shared output closes once all are."""
        self.shared.channel_done(self.index)
