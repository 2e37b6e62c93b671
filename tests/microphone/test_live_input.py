"""Device choice, --duration, --save-audio and the level meter, without a sound card.

Pure functions first, then the CLI (CliRunner) against the scripted server for
what works on every input: --save-audio and --duration on files and stdin.
The capture itself is tested through PortAudio in test_microphone.py.
"""

import io
import json

import numpy as np
import pytest

from asrx_cli.audio.input_devices import InputDevice, find_input_device
from asrx_cli.audio.inputs import first_seconds
from asrx_cli.audio.microphone import capture_settings, peak_level
from asrx_cli.errors import UsageError
from asrx_cli.output.levelmeter import LevelMeter, MeterUntilWords, meter_bar
from asrx_cli.output.render import JsonRenderer, LineRenderer
from asrx_cli.output.width import CLEAR_LINE
from asrx_cli.transcript.events import Final, Partial
from tests.support.audio import noise, read_wav, write_audio
from tests.support.run import run_cli, run_transcribe
from tests.support.scripted import Script, new_sentence, sentence

DEVICES = [
    InputDevice(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", 2, 44100, False),
    InputDevice(3, "USB Audio Device: Mic (hw:1,0)", "ALSA", 1, 48000, False),
    InputDevice(7, "pulse", "ALSA", 32, 44100, False),
    InputDevice(8, "pulse monitor", "ALSA", 32, 44100, False),
    InputDevice(9, "default", "ALSA", 32, 44100, True),
]


@pytest.mark.parametrize("spec, index", [
    (None, 9), ("3", 3), ("usb", 3), ("USB Audio", 3), ("Pulse", 7), ("monitor", 8), (" 0 ", 0),
])
def test_a_device_is_found_by_index_or_part_of_its_name(spec, index):
    assert find_input_device(DEVICES, spec).index == index


@pytest.mark.parametrize("spec, message, listed", [
    ("hw:", "'hw:' matches several input devices", ["0 'HDA", "3 'USB"]),
    ("bluetooth", "no input device matches 'bluetooth'",
     ["0 'HDA", "3 'USB", "7 'pulse'", "9 'default'"]),
    ("5", "no input device has index 5", ["0 'HDA", "9 'default'"]),
])
def test_a_wrong_device_is_a_usage_error_that_lists_the_candidates(spec, message, listed):
    with pytest.raises(UsageError) as raised:
        find_input_device(DEVICES, spec)
    assert message in raised.value.message
    assert all(candidate in raised.value.message for candidate in listed)
    if spec == "hw:":
        assert "pulse" not in raised.value.message  # only the candidates that matched


def test_no_device_or_no_default_is_a_usage_error():
    with pytest.raises(UsageError, match="no input device found"):
        find_input_device([], None)
    with pytest.raises(UsageError, match="no default input device"):
        find_input_device(DEVICES[:2], None)


def test_the_wire_format_is_asked_for_first_then_the_device_s_own():
    usb = DEVICES[1]
    assert capture_settings(usb, lambda rate, channels: True) == (16000, 1)
    assert capture_settings(usb, lambda rate, channels: rate == 48000) == (48000, 1)
    stereo = DEVICES[0]
    # downmixed by asrx
    assert capture_settings(stereo, lambda rate, channels: rate == 44100) == (44100, 2)
    stereo_only = DEVICES[0]
    assert capture_settings(stereo_only,
                            lambda rate, channels: (rate, channels) == (44100, 2)) == (44100, 2)
    with pytest.raises(Exception, match="accepts neither"):
        capture_settings(usb, lambda rate, channels: False)


def test_first_seconds_cuts_exactly_and_reads_no_further():
    pulled = []

    def blocks():
        for n in range(100):
            pulled.append(n)
            yield bytes([n % 256]) * 10000

    out = b"".join(first_seconds(blocks(), 1.0))
    assert len(out) == 32000 and out[-1] == 3
    assert pulled == [0, 1, 2, 3]


def test_peak_level_of_int16_and_float_blocks():
    assert peak_level(np.array([[0], [-32768]], dtype=np.int16)) == 1.0
    assert peak_level(np.array([[0.25, -0.5]], dtype=np.float32)) == 0.5
    assert peak_level(np.zeros((0, 1), np.float32)) == 0.0
    assert meter_bar(0.0) == "·" * 12 and meter_bar(1.0) == "█" * 12
    assert meter_bar(0.001).count("█") == 0 < meter_bar(0.03).count("█") < meter_bar(0.5).count("█")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_level_meter_is_redrawn_a_few_times_a_second_until_words_come():
    stream, clock = io.StringIO(), Clock()
    meter = LevelMeter(stream, columns=80, clock=clock)
    meter.show("USB Mic", 0.5)
    meter.show("USB Mic", 0.9)  # too soon to redraw
    assert stream.getvalue().count("listening on USB Mic") == 1
    clock.now = 0.2
    meter.show("USB Mic", 0.01)
    assert stream.getvalue().count(CLEAR_LINE) == 2
    # the loudest since the last draw
    assert stream.getvalue().endswith(meter_bar(0.9) + "  (Ctrl-C ends)")
    renderer = MeterUntilWords(LineRenderer(io.StringIO()), meter)
    renderer.event(Partial(0, "hello", 0.5))
    assert stream.getvalue().endswith(CLEAR_LINE)
    clock.now = 1.0
    meter.show("USB Mic", 0.5)
    renderer.event(Final(0, "hello", 0.0, 0.5))
    renderer.close()
    assert stream.getvalue().count(CLEAR_LINE) == 3  # gone for good
    assert renderer.inner.out.getvalue() == "hello\n"


def test_a_meter_never_drawn_leaves_nothing_behind():
    stream = io.StringIO()
    LevelMeter(stream, columns=80).close()
    assert stream.getvalue() == ""


def test_save_audio_from_a_file_is_what_the_server_received(server, tmp_path):
    path = write_audio(tmp_path / "in.wav", noise(1.0, rate=44100, channels=2), 44100)
    saved = tmp_path / "sent.wav"
    result = run_transcribe(server, path, "--speed", "0", "--save-audio", saved)
    assert result.exit_code == 0, result.stderr
    received = bytes(server.record.wait_finished().audio)
    assert len(received) == 32000 and read_wav(saved) == received


def test_save_audio_survives_a_connection_failure(make_server, tmp_path):
    server = make_server(Script(timed=[(0.2, sentence("first"))], close_after_seconds=0.5))
    path = write_audio(tmp_path / "in.wav", noise(3.0), 16000)
    saved = tmp_path / "sent.wav"
    result = run_transcribe(server, path, "--speed", "4", "--save-audio", saved, "--retries", "0")
    assert result.exit_code == 5 and result.stdout == "first\n"
    received, sent = bytes(server.record.wait_finished().audio), read_wav(saved)
    # The server hangs up at 0.5 s: frames already on their way when it did are in the file
    # (sent), not in the server's record; at --speed 4 they are less than 0.5 s of audio.
    assert sent.startswith(received) and len(received) >= 16000
    assert len(sent) - len(received) < 16000


def test_save_audio_from_stdin(server, tmp_path):
    audio = noise(0.7).tobytes()
    saved = tmp_path / "sent.wav"
    result = run_transcribe(server, "-", "--save-audio", saved, input=audio)
    assert result.exit_code == 0, result.stderr
    assert read_wav(saved) == audio == bytes(server.record.wait_finished().audio)


def test_an_unwritable_recording_is_a_usage_error_before_connecting(server, tmp_path):
    path = write_audio(tmp_path / "in.wav", noise(0.5), 16000)
    result = run_transcribe(server, path, "--save-audio", tmp_path / "no" / "such" / "dir.wav")
    assert result.exit_code == 2 and "cannot write" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and server.records == []


def test_duration_stops_any_input(make_server, tmp_path):
    path = write_audio(tmp_path / "in.wav", noise(2.0), 16000)
    server = make_server(Script(at_end=[new_sentence("done")]))
    result = run_transcribe(server, path, "--speed", "0", "--duration", "0.5")
    assert result.exit_code == 0 and result.stdout == "done\n"
    record = server.record.wait_finished()
    assert bytes(record.audio) == noise(2.0).tobytes()[:16000] and record.end_of_stream is not None


@pytest.mark.parametrize("args, message", [
    (["in.wav", "--mic"], "give AUDIO or --mic, not both"),
    ([], "missing AUDIO: give a file, - for stdin, or --mic"),
    (["in.wav", "--device", "USB"], "--device applies to --mic only"),
    (["--mic", "--duration", "0"], "--duration"),
])
def test_input_usage_errors(args, message):
    result = run_cli(["transcribe", "--url", "ws://127.0.0.1:9/asrx", *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr


def test_the_config_file_may_name_the_input_device(server, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('device = "USB"\n')
    path = write_audio(tmp_path / "in.wav", noise(0.3), 16000)
    result = run_transcribe(server, path, "--speed", "0", env={"ASRX_CONFIG": str(config)})
    assert result.exit_code == 0, result.stderr  # a default for --mic, harmless for a file


def test_records_for_programs_pass_the_level_meter():
    """`--mic --json` on a terminal: reconnect and stats records reach the JSON output as without
    a meter."""
    out = io.StringIO()
    renderer = MeterUntilWords(JsonRenderer(out), LevelMeter(io.StringIO(), columns=80))
    renderer.record({"type": "reconnect", "attempt": 1})
    renderer.record({"type": "stats", "sentences": 0})
    assert ([json.loads(line)["type"] for line in out.getvalue().splitlines()]
            == ["reconnect", "stats"])
