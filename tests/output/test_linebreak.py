"""Subtitle lines of real Thai: breaks between words, never in a number, lengths as Thai counts."""

import re

import pytest

from asrx_cli.output.linebreak import GRAPHEME, Layout, break_positions
from asrx_cli.output.width import subtitle_length

# News, call-centre and meeting language; numbers, money, phone numbers, dates and
# times; English loanwords in Thai script; English words in Latin script.
SENTENCES = [
    "การประชุมวันนี้เราจะพูดคุยเกี่ยวกับแผนงานประจำปีของบริษัทและงบประมาณที่ต้องใช้"
    "ในการพัฒนาผลิตภัณฑ์ใหม่สำหรับลูกค้าในประเทศไทย",
    "นายกรัฐมนตรีเดินทางไปเยือนประเทศญี่ปุ่นเพื่อหารือเรื่องความร่วมมือทางเศรษฐกิจ"
    "และการค้าระหว่างสองประเทศ",
    "กรมอุตุนิยมวิทยาประกาศเตือนประชาชนในภาคใต้ให้ระวังฝนตกหนักและน้ำท่วมฉับพลันตลอดสัปดาห์นี้",
    "ธนาคารแห่งประเทศไทยคงอัตราดอกเบี้ยนโยบายไว้ที่ร้อยละ 2.50 ต่อปี",
    "ราคาน้ำมันดีเซลปรับขึ้นลิตรละ 1.20 บาท มีผลตั้งแต่เวลา 05:00 น. ของวันพรุ่งนี้",
    "สวัสดีค่ะ ขอบคุณที่โทรเข้ามาที่ศูนย์บริการลูกค้า ดิฉันชื่อสมศรี ยินดีให้บริการค่ะ",
    "รบกวนขอหมายเลขโทรศัพท์ของคุณลูกค้าด้วยค่ะ",
    "เบอร์ของผมคือ 081-234-5678 ครับ หรือติดต่อที่ทำงาน 02-123-4567 ต่อ 105",
    "ยอดค้างชำระของคุณลูกค้าทั้งหมดคือ 12,450.75 บาท กรุณาชำระภายในวันที่ 15 มกราคม 2567",
    "ขออภัยในความไม่สะดวกนะคะ ระบบจะส่งข้อความยืนยันไปที่อีเมลของคุณลูกค้าภายในยี่สิบสี่ชั่วโมง",
    "ผมขอสรุปผลการประชุมครั้งที่แล้วก่อนนะครับ ทีมขายทำยอดได้เกินเป้าหมายไปสิบห้าเปอร์เซ็นต์",
    "ยอดขายไตรมาสที่สามเพิ่มขึ้น 12.5% เมื่อเทียบกับปีที่แล้ว",
    "เราจะย้ายระบบทั้งหมดไปใช้คลาวด์ภายในเดือนมีนาคม",
    "ทีมพัฒนาซอฟต์แวร์กำลังทดสอบแอปพลิเคชันเวอร์ชันใหม่บนคอมพิวเตอร์และโทรศัพท์มือถือ",
    "ผมใช้ Microsoft Teams ประชุมกับทีม marketing ทุกวันจันทร์ตอนสิบโมงเช้า",
    "กรุณาเข้าไปที่เว็บไซต์ https://www.example.co.th/help เพื่อดูรายละเอียดเพิ่มเติม",
    "ประชุมครั้งหน้าวันที่ 3/11/2567 เวลา 14:30 น. ที่ห้องประชุมชั้นห้า",
    "โครงการนี้ใช้งบประมาณทั้งสิ้น 3,500,000 บาท แบ่งจ่ายเป็นสามงวด",
    "ตำรวจจราจรแจ้งว่าถนนพหลโยธินมีการจราจรติดขัดอย่างหนักตั้งแต่เช้า",
    "กระทรวงสาธารณสุขแนะนำให้ประชาชนฉีดวัคซีนไข้หวัดใหญ่ก่อนเข้าฤดูฝน",
    "ลูกค้าสามารถสมัครแพ็กเกจอินเทอร์เน็ตความเร็ว 1000 Mbps ได้ในราคาเดือนละ 599 บาท",
    "ช่วยส่งไฟล์ presentation ให้ผมทางอีเมลก่อนเที่ยงได้ไหมครับ",
    "ผู้ใหญ่บ้านกำลังประชุมเรื่องน้ำท่วมที่หมู่บ้านของเราในวันพรุ่งนี้ตอนเช้าก่อนเที่ยง",
    "โทร +66 2 123 4567 หรือสายด่วน 1111 ได้ตลอดยี่สิบสี่ชั่วโมง",
]

# Checked by hand: each is one word to a Thai reader, which a line must not cut.
WORDS = """
บริษัท สำหรับ งบประมาณ ประเทศไทย ผลิตภัณฑ์ ลูกค้า นายกรัฐมนตรี อุตุนิยมวิทยา ประชาชน สัปดาห์
ธนาคาร ดอกเบี้ย โทรศัพท์ หมายเลข ขอบคุณ สวัสดี ศูนย์ บริการ กรุณา มกราคม ข้อความ อีเมล ชั่วโมง
เปอร์เซ็นต์ ไตรมาส คลาวด์ ซอฟต์แวร์ แอปพลิเคชัน เวอร์ชัน คอมพิวเตอร์ เว็บไซต์ รายละเอียด โครงการ
พหลโยธิน สาธารณสุข วัคซีน แพ็กเกจ อินเทอร์เน็ต ความเร็ว เที่ยง ไฟล์ หมู่บ้าน ผู้ใหญ่ พรุ่งนี้ ยี่สิบ
สายด่วน เป้าหมาย ฉับพลัน น้ำท่วม มือถือ ประชุม เศรษฐกิจ ญี่ปุ่น ระหว่าง ภายใน ทั้งหมด น้ำมัน ดีเซล
ร่วมมือ เดินทาง ติดขัด จราจร ตำรวจ กระทรวง ไข้หวัดใหญ่ เพิ่มเติม ทั้งสิ้น สมศรี ยินดี
""".split()
# Numbers, amounts, times, dates, phone numbers, URLs, Latin words: never cut.
WHOLE = re.compile(r"\+66 2 123 4567|https://\S+|\d[\d,.:/-]*\d%?|[A-Za-z]+")
WIDTHS = [35, 28, 20, 14]


def line_starts(layout, cues):
    """Where in the text each line after the first begins."""
    starts, position = [], 0
    for line in (line for cue in cues for line in cue.split("\n")):
        position = layout.text.index(line, position)
        starts.append(position)
        position += len(line)
    return starts[1:]


def inside(breaks, span):
    return [b for b in breaks if span[0] < b < span[1]]


def test_the_table_is_as_the_issue_asks():
    assert len(SENTENCES) >= 20
    assert all(word in " ".join(SENTENCES) for word in WORDS)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("text", SENTENCES, ids=[f"s{n:02d}" for n in range(len(SENTENCES))])
def test_thai_lines_break_between_words_within_the_width(text, width):
    pytest.importorskip("icu4py", reason="no dictionary: lines break between grapheme clusters")
    layout = Layout(text, width, 2)
    cues = layout.cues(layout.fewest_cues())
    lines = [line for cue in cues for line in cue.split("\n")]
    assert all(subtitle_length(line) <= width for line in lines), lines
    assert all(1 <= len(cue.split("\n")) <= 2 for cue in cues)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    breaks = line_starts(layout, cues)
    too_wide = {b for whole in WHOLE.finditer(layout.text) if subtitle_length(whole.group()) > width
                for b in range(*whole.span())}  # a URL wider than a line: cut where it must be
    assert set(breaks) <= set(break_positions(layout.text)) | too_wide  # where the segmenter allows
    for word in WORDS:
        for found in re.finditer(re.escape(word), layout.text):
            assert not inside(breaks, found.span()), (word, lines)
    for whole in WHOLE.finditer(layout.text):
        if subtitle_length(whole.group()) <= width:
            assert not inside(breaks, whole.span()), (whole.group(), lines)


def test_two_lines_are_balanced_and_a_short_text_takes_one():
    layout = Layout(SENTENCES[13], 35, 2)  # 66 characters: two lines
    (cue,) = layout.cues(layout.fewest_cues())
    top, bottom = cue.split("\n")
    assert abs(subtitle_length(top) - subtitle_length(bottom)) <= 10
    assert Layout("รบกวนขอหมายเลขโทรศัพท์ด้วยค่ะ", 35, 2).cues(1) == ["รบกวนขอหมายเลขโทรศัพท์ด้วยค่ะ"]


def test_marks_above_and_below_count_nothing_and_sara_am_counts_one():
    assert subtitle_length("ผู้ใหญ่") == 4  # ผ ใ ห ญ; the marks ู ้ ่ take nothing (7 code points)
    assert subtitle_length("น้ำ") == 2  # น ำ, and the tone mark ้ takes nothing
    assert subtitle_length("ok\nok") == 4


def test_without_the_dictionary_lines_break_between_clusters_but_never_inside_numbers():
    text = "ยอดค้างชำระ 12,450.75 บาท โทร 02-123-4567 หรือ https://www.example.co.th/help ค่ะ"
    layout = Layout(text, 14, 2, dictionary=False)
    cues = layout.cues(layout.fewest_cues())
    lines = [line for cue in cues for line in cue.split("\n")]
    assert all(subtitle_length(line) <= 14 for line in lines)
    clusters, position = set(), 0
    for cluster in GRAPHEME.findall(layout.text):
        position += len(cluster)
        clusters.add(position)
    breaks = line_starts(layout, cues)
    assert set(breaks) <= clusters
    for whole in ("12,450.75", "02-123-4567"):
        start = layout.text.index(whole)
        assert not inside(breaks, (start, start + len(whole)))


@pytest.mark.parametrize("text", [
    "今日は会議で来年度の予算と新製品の開発計画について話し合います" * 2,
    "ພວກເຮົາຈະປະຊຸມກັນໃນມື້ອື່ນຕອນເຊົ້າກ່ຽວກັບແຜນງານປະຈໍາປີຂອງບໍລິສັດ",
    "យើងនឹងប្រជុំគ្នានៅថ្ងៃស្អែកពេលព្រឹកអំពីផែនការប្រចាំឆ្នាំរបស់ក្រុមហ៊ុន",
    "ကျွန်ုပ်တို့သည်မနက်ဖြန်နံနက်တွင်ကုမ္ပဏီ၏နှစ်စဉ်အစီအစဉ်အကြောင်းအစည်းအဝေးပြုလုပ်မည်",
])
@pytest.mark.parametrize("dictionary", [True, False], ids=["icu", "fallback"])
def test_other_scripts_without_spaces_never_break_inside_a_cluster(text, dictionary):
    layout = Layout(text, 20, 2, dictionary=dictionary)
    cues = layout.cues(layout.fewest_cues())
    lines = [line for cue in cues for line in cue.split("\n")]
    assert "".join(lines) == text and all(subtitle_length(line) <= 20 for line in lines)
    position, clusters = 0, set()
    for cluster in GRAPHEME.findall(text):
        position += len(cluster)
        clusters.add(position)
    assert set(line_starts(layout, cues)) <= clusters


# asrx run by this Python, saying at exit whether ICU's line breaker was imported;
# "absent" runs it as on a platform where icu4py does not install.
PROBE = """
import atexit, sys
if sys.argv[1] == "absent":
    sys.modules["icu4py"] = None
atexit.register(lambda: sys.stderr.write(f"breaker imported: {'icu4py.breakers' in sys.modules}"))
from asrx_cli.cli import main
main(sys.argv[2:])
"""


def probe(*args):
    import subprocess
    import sys

    from tests.support.run import subprocess_env

    return subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], env=subprocess_env(),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def thai_server(make_server):
    from tests.support.scripted import Script, new_sentence, sentence

    return make_server(Script(at_end=[sentence(SENTENCES[0]), new_sentence(SENTENCES[1])]))


@pytest.fixture
def thai_audio(tmp_path):
    from tests.support.audio import noise, write_audio

    return write_audio(tmp_path / "speech.wav", noise(1.0), 16000, subtype="PCM_16")


def test_help_and_plain_text_never_import_the_line_breaker(thai_server, thai_audio):
    pytest.importorskip("icu4py")
    assert probe("present", "--help").stderr.endswith("breaker imported: False")
    text = probe("present", "transcribe", "--url", thai_server.url, "--speed", "0", thai_audio)
    assert text.returncode == 0 and text.stdout == f"{SENTENCES[0]}\n{SENTENCES[1]}\n", text.stderr
    assert text.stderr.endswith("breaker imported: False")
    srt = probe("present", "transcribe", "--url", thai_server.url, "--speed", "0", "--format",
                "srt", thai_audio)
    assert srt.returncode == 0 and srt.stderr.endswith("breaker imported: True")


def test_without_icu4py_subtitles_are_still_written_and_minus_v_says_so_once(thai_server,
                                                                            thai_audio):
    run = probe("absent", "transcribe", "--url", thai_server.url, "--speed", "0", "--format", "srt",
                "-v", thai_audio)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("line breaks between grapheme clusters") == 1
    lines = [line for line in run.stdout.splitlines() if line and "-->" not in line
             and not line.isdigit()]
    assert "".join(lines).replace(" ", "") == (SENTENCES[0] + SENTENCES[1]).replace(" ", "")
    assert all(subtitle_length(line) <= 35 for line in lines)
    quiet = probe("absent", "transcribe", "--url", thai_server.url, "--speed", "0", "--format",
                  "srt", thai_audio)
    assert "grapheme" not in quiet.stderr
