"""The microphone's status line on a terminal: device and input level until words come.

The reading thread draws it on stderr; the first recognised words (or the end
of the run) take it away for good. A lock keeps the two threads from drawing
after it has gone.
"""

import math
import threading
import time
from typing import TextIO, Union

from asrx_cli.output.render import Renderer
from asrx_cli.output.width import CLEAR_LINE, fit_to_width
from asrx_cli.transcript.events import Event, Final, Partial

REDRAW_SECONDS = 0.1
METER_CELLS = 12
FLOOR_DB = -60.0  # the level shown as an empty meter


def meter_bar(peak: float, cells: int = METER_CELLS) -> str:
    """A bar on a decibel scale: speech at a normal distance fills about half of it."""
    decibels = 20 * math.log10(peak) if peak > 0 else FLOOR_DB
    filled = round(cells * min(max((decibels - FLOOR_DB) / -FLOOR_DB, 0.0), 1.0))
    return "█" * filled + "·" * (cells - filled)


class LevelMeter:
    def __init__(self, stream: TextIO, columns: int, clock=time.monotonic):
        self.stream = stream
        self.columns = max(columns, 20)
        self.clock = clock
        self._lock = threading.Lock()
        self._active = True
        self._drawn = False
        self._last_draw = -math.inf
        self._peak = 0.0

    def show(self, device: str, peak: float):
        """The level of the block just read; redrawn a few times a second, with the loudest
        since."""
        with self._lock:
            self._peak = max(self._peak, peak)
            if not self._active or self.clock() - self._last_draw < REDRAW_SECONDS:
                return
            line = f"listening on {device}  {meter_bar(self._peak)}  (Ctrl-C ends)"
            self._write(CLEAR_LINE + fit_to_width(line, self.columns - 1))
            self._drawn, self._last_draw, self._peak = True, self.clock(), 0.0

    def close(self):
        with self._lock:
            if self._active and self._drawn:
                self._write(CLEAR_LINE)
            self._active = False

    def _write(self, text: str):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a status line is not worth failing the run
            self._active = False


class MeterUntilWords(Renderer):
    """Renders through `inner`; the first words recognised take the level meter away."""

    def __init__(self, inner: Renderer, meter: LevelMeter):
        super().__init__(inner.out)
        self.inner = inner
        self.meter = meter

    def event(self, event: Event):
        if isinstance(event, (Partial, Final)) and event.text:
            self.meter.close()
        self.inner.event(event)

    def frame(self, frame: Union[str, bytes]):
        self.inner.frame(frame)

    def record(self, record: dict):
        self.inner.record(record)

    def close(self):
        self.meter.close()
        self.inner.close()
