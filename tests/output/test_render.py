"""Renderers write what a reader of stdout expects, flushed per line."""

import io
import json

import pytest

from asrx_cli.errors import OutputClosed
from asrx_cli.output.factory import make_renderer
from asrx_cli.output.render import JsonRenderer, LineRenderer, LiveRenderer
from asrx_cli.output.width import display_width, fit_to_width
from asrx_cli.transcript.events import Final, Partial


class CountingFlushes(io.StringIO):
    def __init__(self):
        super().__init__()
        self.flushed_at = []

    def flush(self):
        self.flushed_at.append(self.getvalue())


def test_line_renderer_writes_and_flushes_each_final_only():
    out = CountingFlushes()
    renderer = LineRenderer(out)
    renderer.event(Partial(0, "hel", 0.1))
    renderer.event(Final(0, "hello", 0.1, 0.5))
    assert out.flushed_at == ["hello\n"]


def test_json_renderer_one_object_per_line_utf8_unescaped():
    out = io.StringIO()
    renderer = JsonRenderer(out)
    renderer.event(Partial(0, "สวัสดี", 0.12345))
    renderer.event(Final(0, "สวัสดีครับ", 0.1, 1.23456))
    lines = out.getvalue().splitlines()
    assert "สวัสดี" in lines[0]
    assert json.loads(lines[0]) == {"type": "partial", "sentence": 0, "text": "สวัสดี",
                                    "offset": 0.123}
    assert json.loads(lines[1]) == {"type": "final", "sentence": 0, "text": "สวัสดีครับ",
                                    "start": 0.1, "end": 1.235, "timing": "arrival"}


def test_live_renderer_redraws_then_keeps_the_final_line():
    out = io.StringIO()
    renderer = LiveRenderer(out, columns=80)
    renderer.event(Partial(0, "hel", 0.1))
    renderer.event(Partial(0, "hello", 0.2))
    renderer.event(Final(0, "hello", 0.1, 0.5))
    renderer.event(Partial(1, "wor", 0.6))
    renderer.close()
    assert out.getvalue() == "\r\x1b[Khel\r\x1b[Khello\r\x1b[Khello\n\r\x1b[Kwor\n"


def test_thai_marks_take_no_columns():
    assert display_width("สวัสดีครับ") == 7  # 10 code points, 3 of them vowel or tone marks
    assert display_width("漢字") == 4


def test_long_partials_keep_their_end_and_never_start_on_a_mark():
    text = "ผู้ใหญ่" * 40
    fitted = fit_to_width(text, 30)
    assert fitted.startswith("…") and display_width(fitted) <= 30
    assert text.endswith(fitted[1:])
    assert display_width(fitted[1]) == 1


def test_a_closed_pipe_becomes_output_closed():
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError()

    with pytest.raises(OutputClosed):
        LineRenderer(Closed()).event(Final(0, "x", 0, 1))


def test_renderer_choice():
    out = io.StringIO()
    assert isinstance(make_renderer("text", out, live=True, partials=True, columns=80),
                      LiveRenderer)
    assert isinstance(make_renderer("text", out, live=False, partials=True, columns=80),
                      LineRenderer)
    assert isinstance(make_renderer("json", out, live=True, partials=True, columns=80),
                      JsonRenderer)


@pytest.mark.parametrize("text, words", [
    ("ผู้ใหญ่บ้านกำลังประชุมเรื่องน้ำท่วมที่หมู่บ้านของเราในวันพรุ่งนี้ตอนเช้าก่อนเที่ยง",
     ["ผู้ใหญ่", "ประชุม", "หมู่บ้าน", "พรุ่งนี้", "เที่ยง"]),
    ("the committee discusses the flood at length and nobody takes notes", ["committee", "nobody"]),
])
def test_the_live_line_cuts_a_long_partial_before_a_word(text, words):
    pytest.importorskip("icu4py", reason="no dictionary: the line is cut between grapheme clusters")
    out = io.StringIO()
    LiveRenderer(out, columns=31).event(Partial(0, text, 1.0))
    shown = out.getvalue().removeprefix("\r\x1b[K")
    assert shown.startswith("…") and display_width(shown) <= 30 and text.endswith(shown[1:])
    kept = shown[1:]
    assert display_width(kept) >= 20  # as much as fits, short of the word that does not
    for word in words:
        start = text.find(word)
        assert not start < len(text) - len(kept) < start + len(word), (word, kept)
