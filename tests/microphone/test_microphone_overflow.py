"""Input overflows of `asrx transcribe --mic`: a machine that really did not keep up.

The capture device is clocked in real time: a JACK server on its dummy driver,
read through ALSA's JACK plugin. As with a sound card, the audio comes
whether or not asrx is ready for it, and JACK's thread in asrx, real-time
like every audio thread, fills the device's buffer. Then a busy loop at
real-time priority takes the CPU asrx runs on for a second: JACK's thread
outranks it and goes on filling the buffer, the thread that reads it gets no
CPU, and the buffer overruns, which PortAudio reports on the next read.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.support.microphone import MICROPHONE_REQUIREMENTS
from tests.support.run import ASRX, subprocess_env, wait_for
from tests.support.scripted import Script, new_sentence, sentence
from tests.support.terminal import read_line

pytestmark = [
    *MICROPHONE_REQUIREMENTS,
    pytest.mark.skipif(shutil.which("jackd") is None,
                       reason="the JACK server is not installed (Debian: jackd2)"),
    pytest.mark.skipif(not glob.glob("/usr/lib*/*/alsa-lib/libasound_module_pcm_jack.so")
                       + glob.glob("/usr/lib*/alsa-lib/libasound_module_pcm_jack.so"),
                       reason="ALSA's JACK plugin is not installed (Debian: libasound2-plugins)"),
]

MIC = "asrx_test_live_mic"
RATE = 16000  # the wire's: the device is read as it is, no conversion
STARVED_SECONDS = 1.0  # far beyond the device's buffer, a tenth of a second

# Run as `python -c BUSY_LOOP CPU SECONDS`: all of CPU for SECONDS, outranking every ordinary
# thread there.
BUSY_LOOP = textwrap.dedent("""\
    import os, sys, time
    os.sched_setaffinity(0, {int(sys.argv[1])})
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        pass
    """)


def busy_loop(cpu: int, seconds: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BUSY_LOOP, str(cpu), str(seconds)],
                          capture_output=True, text=True)


@pytest.fixture
def cpu():
    """The CPU that asrx and the busy loop share."""
    cpu = min(os.sched_getaffinity(0))
    if busy_loop(cpu, 0).returncode != 0:
        pytest.skip("real-time scheduling is not permitted here (it needs root or CAP_SYS_NICE)")
    return cpu


@pytest.fixture
def jack(tmp_path):
    """A home whose .asoundrc declares MIC on a running JACK server; the environment that reaches
    both."""
    env = subprocess_env(HOME=str(tmp_path), JACK_DEFAULT_SERVER=f"asrx-test-{os.getpid()}")
    (tmp_path / ".asoundrc").write_text(textwrap.dedent(f"""\
        pcm.{MIC} {{
            type jack
            capture_ports {{ 0 system:capture_1 }}
            hint {{ show on description "asrx test device, clocked by JACK" }}
        }}
        """))
    with open(tmp_path / "jackd.log", "wb") as log:  # real-time: its clients' audio threads are too
        server = subprocess.Popen(["jackd", "--realtime", "-d", "dummy", "-r", str(RATE),
                                   "-p", "256", "-C", "1", "-P", "1"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
    try:
        ready = subprocess.run(["jack_wait", "--wait", "--timeout", "10"], env=env,
                               capture_output=True)
        assert ready.returncode == 0, (tmp_path / "jackd.log").read_text()
        yield env
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_overflows_are_warned_about_once_while_running_and_counted_at_the_end(make_server, jack,
                                                                              cpu):
    server = make_server(Script(timed=[(0.5, sentence("hello"))], at_end=[new_sentence("world")]))
    process = subprocess.Popen(
        ["taskset", "--cpu-list", str(cpu), ASRX, "transcribe", "--url", server.url, "--mic",
         "--device", MIC, "--duration", "2"],
        env=jack, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: server.records and server.records[0].seconds >= 0.5, timeout=20)
        starved = busy_loop(cpu, STARVED_SECONDS)
        assert starved.returncode == 0, starved.stderr
        warning = read_line(process.stderr).decode()
        assert process.poll() is None  # said as it happened, the capture going on
        stdout, rest = process.communicate(timeout=30)
    finally:
        process.kill()
    effect = "the machine did not keep up with the microphone and some audio was lost"
    assert warning == f"asrx: warning: input overflow: {effect}\n"
    count = re.fullmatch(rf"asrx: warning: (\d+) input overflows? in all: {effect}\n",
                         rest.decode())
    assert count and int(count.group(1)) >= 1, rest
    assert (process.returncode, stdout) == (0, b"hello\nworld\n")
    record = server.record.wait_finished()
    # what was captured, all of it
    assert record.seconds == 2.0 and record.end_of_stream is not None
