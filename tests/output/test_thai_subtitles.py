"""Thai subtitles end to end: espeak-ng's Thai voice, a server returning each sentence, -o talk.srt.

Long and short sentences, fast speech and little silence between sentences:
every cue lasts from 5/6 s to 7 s, holds at most two lines of 35 characters
broken between words, is read at 17 characters a second or ends where the
next sentence's speech begins, and never overlaps the next cue; the files
are read back by pysubs2, ffmpeg and Chromium.
"""

import numpy as np
import pytest
import soundfile

from asrx_cli.output.linebreak import break_positions
from asrx_cli.output.width import subtitle_length
from tests.support.readers import (
    chromium_cues,
    cues_of,
    ffmpeg_convert,
    needs_chromium,
    needs_ffmpeg,
)
from tests.support.run import run_transcribe
from tests.support.scripted import late_script
from tests.support.utterances import espeak, have_espeak, layout

pytestmark = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")

# (text, words a minute): espeak-ng's Thai voice reads about 8 characters a second at 175.
SPOKEN = [
    ("การประชุมวันนี้เราจะพูดคุยเกี่ยวกับแผนงานประจำปีของบริษัทและงบประมาณที่ต้องใช้"
     "ในการพัฒนาผลิตภัณฑ์ใหม่สำหรับลูกค้าในประเทศไทย", 175),
    ("ครับ", 175),
    ("ยอดค้างชำระของคุณลูกค้าทั้งหมดคือ 12,450.75 บาท กรุณาชำระภายในวันที่ 15 มกราคม 2567", 800),
    ("กรุณาติดต่อกลับที่หมายเลข 02-123-4567 ภายในวันพรุ่งนี้ค่ะ", 600),
    ("ทีมพัฒนาซอฟต์แวร์กำลังทดสอบแอปพลิเคชันเวอร์ชันใหม่", 300),
]
SILENCES = [0.6, 2.5, 0.6, 0.6, 0.6, 1.5]  # before each sentence, after the last: little between
SHORTEST_MS = 833
ONSET_TOLERANCE = 0.3  # seconds: how far the speech found may be from where it was put


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """talk.srt and talk.vtt from a server that returns each sentence, and the talk's layout."""
    from tests.support import API_KEY
    from tests.support.scripted import ScriptedServer

    speech = layout([espeak(text, "th", speed) for text, speed in SPOKEN], SILENCES)
    folder = tmp_path_factory.mktemp("thai")
    audio = folder / "talk.wav"
    soundfile.write(str(audio), np.frombuffer(speech.pcm, "<i2"), 16000, subtype="PCM_16")
    for name in ("talk.srt", "talk.vtt"):
        server = ScriptedServer(late_script(speech.truth, speech.texts), api_key=API_KEY).start()
        try:
            result = run_transcribe(server, audio, "--speed", "4", "-o", folder / name)
        finally:
            server.stop()
        assert result.exit_code == 0 and result.stdout == "", result.stderr
    return folder, speech


def sentences_of(cues, texts):
    """The cues of each sentence, in order: their text put together is the sentence's."""
    grouped, cues = [], list(cues)
    for text in texts:
        taken, joined = [], ""
        while joined != text.replace(" ", ""):
            cue = cues.pop(0)
            taken.append(cue)
            joined += cue[2].replace("\n", "").replace(" ", "")
            assert text.replace(" ", "").startswith(joined), (text, joined)
        grouped.append(taken)
    assert not cues
    return grouped


def test_each_cue_lasts_long_enough_and_no_longer_never_overlapping(talk):
    folder, speech = talk
    cues = cues_of(folder / "talk.srt")
    assert all(SHORTEST_MS <= end - start <= 7000 for start, end, _ in cues), cues
    assert all(a[1] <= b[0] for a, b in zip(cues, cues[1:]))


def test_lines_hold_35_characters_broken_between_words(talk):
    folder, speech = talk
    for _, _, text in cues_of(folder / "talk.srt"):
        assert 1 <= len(text.split("\n")) <= 2
        assert all(subtitle_length(line) <= 35 for line in text.split("\n"))
    for text, cues in zip(speech.texts, sentences_of(cues_of(folder / "talk.srt"), speech.texts)):
        lines = [line for _, _, cue in cues for line in cue.split("\n")]
        allowed, position = set(break_positions(text)), 0
        for line in lines[1:]:
            position = text.index(line, position)
            assert position in allowed, (text, lines)


def test_cues_start_on_the_speech_and_are_read_at_17_characters_a_second_before_the_next(talk):
    folder, speech = talk
    grouped = sentences_of(cues_of(folder / "talk.srt"), speech.texts)
    following = [onset for onset, _ in speech.truth[1:]] + [float("inf")]
    for cues, (onset, _), after in zip(grouped, speech.truth, following):
        assert abs(cues[0][0] / 1000 - onset) <= ONSET_TOLERANCE, (cues, onset)
        assert cues[-1][1] / 1000 <= after + ONSET_TOLERANCE  # not into the next sentence's speech
        for start, end, text in cues:
            fast = subtitle_length(text) / ((end - start) / 1000) > 17.0
            assert not fast or abs(cues[-1][1] / 1000 - after) <= ONSET_TOLERANCE, (text, end)
    assert sum(len(cues) for cues in grouped) > len(grouped)  # long sentences made several cues


def test_pysubs2_reads_the_same_cues_from_srt_and_vtt(talk):
    folder, _ = talk
    assert cues_of(folder / "talk.srt") == cues_of(folder / "talk.vtt")


@needs_ffmpeg
def test_ffmpeg_reads_the_srt(talk):
    folder, _ = talk
    result = ffmpeg_convert(folder / "talk.srt", folder / "again.vtt")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert cues_of(folder / "again.vtt") == cues_of(folder / "talk.srt")


@needs_chromium
def test_chromium_shows_every_cue_of_the_vtt(talk, tmp_path):
    folder, _ = talk
    shown = chromium_cues(folder, "talk.vtt", tmp_path / "profile")
    assert shown == [(s / 1000, e / 1000, t) for s, e, t in cues_of(folder / "talk.vtt")]
