"""`asrx transcribe --mic` and `asrx devices` through real PortAudio capture.

The capture devices are ALSA `file` PCMs whose `infile` plays a file of our
choosing, declared in the .asoundrc of a temporary home. PortAudio reads the
ALSA configuration when it starts, so every run is a subprocess of the
installed `asrx`. Such a device delivers its file as fast as it is read, then
silence: --duration ends the runs that are not paced.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile

from tests.support.audio import noise
from tests.support.microphone import MICROPHONE_REQUIREMENTS
from tests.support.run import run_asrx, start_asrx, subprocess_env
from tests.support.scripted import Script, new_sentence, sentence
from tests.support.speech import GOFORWARD, GOFORWARD_TEXT, needs_testdata
from tests.support.terminal import open_terminal, read_all, read_line

pytestmark = MICROPHONE_REQUIREMENTS

MIC = "asrx_test_mic"
OTHER = "asrx_test_mic_two"
SPEECH = noise(3.0, seed=7).tobytes()  # every sample counts in the comparisons


def file_pcm(name: str, infile) -> str:
    return textwrap.dedent(f"""\
        pcm.{name} {{
            type file
            slave.pcm "null"
            file "/dev/null"
            infile "{infile}"
            format "raw"
            hint {{ show on description "asrx test device" }}
        }}
        """)


@pytest.fixture
def home(tmp_path):
    """A home whose .asoundrc declares two capture devices playing SPEECH."""
    (tmp_path / "speech.raw").write_bytes(SPEECH)
    (tmp_path / ".asoundrc").write_text(
        file_pcm(MIC, tmp_path / "speech.raw") + file_pcm(OTHER, tmp_path / "speech.raw"))
    return tmp_path


def run(home, *args, timeout=30, **extra_env):
    return run_asrx(*args, env=subprocess_env(HOME=str(home), **extra_env), text=True,
                    timeout=timeout)


def mic(server, home, *args, **options):
    return run(home, "transcribe", "--url", server.url, "--mic", *args, **options)


def devices(home):
    result = run(home, "devices", "--json")
    assert result.returncode == 0, result.stderr
    return {record["name"]: record for record in map(json.loads, result.stdout.splitlines())}


def test_the_server_receives_the_audio_of_the_device(make_server, home):
    server = make_server(Script(timed=[(0.5, sentence("hello"))], at_end=[new_sentence("world")]))
    result = mic(server, home, "--device", MIC, "--duration", 1.5)
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello\nworld\n", "")
    record = server.record.wait_finished()
    assert bytes(record.audio) == SPEECH[:48000]  # 1.5 s of 16 kHz s16le, bit-exact
    assert record.end_of_stream is not None


def test_devices_lists_the_capture_devices(home):
    listed = devices(home)
    assert {MIC, OTHER} <= set(listed)
    assert listed[MIC]["hostapi"] == "ALSA" and listed[MIC]["channels"] >= 1
    assert set(listed[MIC]) == {"index", "name", "hostapi", "channels", "default_rate", "default"}
    text = run(home, "devices")
    line = next(line for line in text.stdout.splitlines() if f" {MIC} " in line)
    assert line.lstrip("* ").split()[:2] == [str(listed[MIC]["index"]), MIC]
    assert f"(ALSA, {listed[MIC]['channels']} ch, {listed[MIC]['default_rate']} Hz)" in line
    assert sum(record["default"] for record in listed.values()) <= 1


def test_a_sound_system_that_cannot_start_is_one_line_and_exit_3(tmp_path):
    (tmp_path / ".asoundrc").write_text("pcm.broken {\n type file\n")  # ALSA cannot parse it
    for args in (["devices"], ["transcribe", "--mic", "--url", "ws://127.0.0.1:9/asrx"]):
        result = run(tmp_path, *args)
        assert result.returncode == 3, result.stderr
        assert result.stdout == ""
        assert result.stderr.startswith("asrx: error: the sound system cannot start (")
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_device_by_index(make_server, home):
    index = devices(home)[OTHER]["index"]
    server = make_server()
    result = mic(server, home, "--device", index, "--duration", 0.5, "-v")
    assert result.returncode == 0, result.stderr
    assert f"microphone {index} '{OTHER}'" in result.stderr
    assert bytes(server.record.wait_finished().audio) == SPEECH[:16000]


@pytest.mark.parametrize("spec, message", [
    ("no such device", "no input device matches 'no such device'"),
    ("asrx_test", "'asrx_test' matches several input devices"),
])
def test_an_unknown_or_ambiguous_device_is_a_usage_error_naming_the_candidates(make_server, home,
                                                                              spec, message):
    server = make_server()
    result = mic(server, home, "--device", spec)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert (message in result.stderr and f"'{MIC}'" in result.stderr
            and f"'{OTHER}'" in result.stderr)
    assert server.records == []  # refused before connecting


def test_save_audio_holds_what_the_server_received(make_server, home, tmp_path):
    server = make_server()
    saved = tmp_path / "saved.wav"
    result = mic(server, home, "--device", MIC, "--duration", 2, "--save-audio", saved)
    assert result.returncode == 0, result.stderr
    samples, rate = soundfile.read(saved, dtype="int16")
    assert rate == 16000 and samples.tobytes() == bytes(server.record.wait_finished().audio)
    assert len(samples) == 32000


def test_ctrl_c_ends_the_capture_gracefully(make_server, home, tmp_path):
    """Paced at real time so that the capture is still going when Ctrl-C comes."""
    server = make_server(Script(timed=[(0.2, sentence("so far")), (0.3, new_sentence("more"))],
                                at_end=[new_sentence("last words")]))
    saved = tmp_path / "saved.wav"
    primary, secondary = open_terminal()
    process = start_asrx("transcribe", "--url", server.url, "--mic", "--device", MIC,
                         "--speed", "1", "--save-audio", saved,
                         env=subprocess_env(HOME=str(home)), stderr=secondary,
                         stdin=subprocess.DEVNULL)
    os.close(secondary)
    try:
        assert read_line(process.stdout) == b"so far\n"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 130
    finally:
        process.kill()
    status_line = read_all(primary).decode()
    os.close(primary)
    assert process.stdout.read() == b"more\nlast words\n"
    record = server.record.wait_finished()
    assert record.end_of_stream is not None and record.seconds >= 0.3
    assert bytes(record.audio) == SPEECH[:len(record.audio)]
    samples, _ = soundfile.read(saved, dtype="int16")
    assert samples.tobytes() == bytes(record.audio)
    # The status line showed the device, then went away with the first words.
    assert f"listening on {MIC}" in status_line
    assert status_line.rsplit(f"listening on {MIC}", 1)[1].count("\r\x1b[K") == 1


@pytest.mark.parametrize("command", [["transcribe", "--mic"], ["devices"]])
def test_without_portaudio_one_line_names_the_package(home, tmp_path, command):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    result = run(home, *command, PYTHONPATH=str(hidden))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "libportaudio2" in result.stderr


def test_files_never_load_portaudio(make_server, home, tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    audio = tmp_path / "a.raw"
    audio.write_bytes(SPEECH[:8000])
    server = make_server()
    result = run(home, "transcribe", "--url", server.url, audio, PYTHONPATH=str(hidden))
    assert result.returncode == 0, result.stderr
    assert run(home, "--help", PYTHONPATH=str(hidden)).returncode == 0


@needs_testdata
def test_real_speech_from_the_microphone_through_asrx_serve(tmp_path):
    from asrx_cli.server.process import ServeProcess

    (tmp_path / ".asoundrc").write_text(file_pcm(MIC, GOFORWARD))
    seconds = len(GOFORWARD.read_bytes()) / 32000 + 1.0  # the recording, then the device's silence
    with ServeProcess("--workers", "1") as serve:
        result = run_asrx("transcribe", "--url", serve.url, "--mic", "--device", MIC,
                          "--duration", f"{seconds:.2f}", text=True, timeout=60,
                          env=subprocess_env(HOME=str(tmp_path), ASRX_API_KEY="any"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOFORWARD_TEXT


def test_converted_capture_from_a_device_at_its_own_rate(home, tmp_path):
    """A device run at 48 kHz stereo: downmixed and resampled to the wire's format."""
    rate, seconds = 48000, 1.0
    t = np.arange(int(rate * seconds)) / rate
    # the file plugin plays the stream's format
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype("<f4")
    (tmp_path / "stereo.raw").write_bytes(np.stack([tone, tone], axis=1).tobytes())
    (home / ".asoundrc").write_text(file_pcm("stereo48", tmp_path / "stereo.raw"))
    script = textwrap.dedent("""\
        import sys, threading
        import numpy as np
        import sounddevice
        from asrx_cli.audio.microphone import Capture
        stream = sounddevice.InputStream(device="stereo48", samplerate=48000, channels=2,
                                         dtype="float32")
        capture = Capture(stream, "stereo48", 48000, False, threading.Event(), None)
        blocks = capture.blocks()
        out = b""
        while len(out) < 32000:
            out += next(blocks)
        blocks.close()
        sys.stdout.buffer.write(out[:32000])
        """)
    result = subprocess.run([sys.executable, "-c", script],
                            env=subprocess_env(HOME=str(home)), capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    got = np.frombuffer(result.stdout, "<i2").astype(np.float64)[1000:15000]  # away from the edges
    spectrum = np.abs(np.fft.rfft(got))
    assert np.argmax(spectrum) * 16000 / len(got) == pytest.approx(440, abs=2)
    assert np.sqrt(np.mean(got ** 2)) == pytest.approx(0.3 * 32767 / np.sqrt(2), rel=0.02)
