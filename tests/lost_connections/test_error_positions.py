"""An error's line says how far the audio got: the audio sent, however the input is paced."""


import pytest

from tests.support.audio import noise
from tests.support.run import pipe_to_asrx
from tests.support.scripted import Script, sentence
from tests.support.tcp_proxy import Fault, Proxy


@pytest.mark.parametrize("speed", [[], ["--speed", "1"]], ids=["unpaced", "paced"])
def test_an_error_after_a_stdin_pipe_s_audio_names_the_audio_sent(make_server, speed):
    # A second (32 frames of 32 ms) through a pipe that stays open; the server refuses it
    # (1003, never retried) once it has all of it.
    server = make_server(Script(timed=[(0.5, sentence("heard"))]))
    with Proxy(server.port, [Fault(1.0, "code", 1003)]) as proxy:
        status, err = pipe_to_asrx(noise(1.024).tobytes(), "transcribe", "--url", proxy.url(),
                                   "-", *speed)
    assert status == 5, err
    assert err.splitlines()[-1] == (
        "asrx: error: the server closed the connection mid-stream (close code 1003, proxy cut) "
        "after 1.0 s of audio")
