"""The terminal behaviours, fast: the CLI run with an Environment the test builds."""

import io

from asrx_cli.cli import cli
from asrx_cli.environment import Environment
from tests.support import API_KEY
from tests.support.audio import noise, write_audio
from tests.support.scripted import Script, new_sentence, sentence


def terminal_run(server, *args, stdin=b"", **terminal):
    """`asrx transcribe ARGS` with the streams and terminal flags given: (status, stdout,
    stderr)."""
    env = Environment(stdin=io.BytesIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(),
                      **terminal)
    status = cli.main(["transcribe", "--url", server.url, "--api-key", API_KEY, *map(str, args)],
                      standalone_mode=False, env=env)
    return status, env.stdout.getvalue(), env.stderr.getvalue()


def test_a_terminal_stdout_gets_the_live_line_cut_to_its_width(make_server, tmp_path):
    server = make_server(Script(timed=[(0.1, sentence("hel")),
                                       (0.2, sentence("hello there, a long one")),
                                       (0.3, new_sentence("wor")), (0.4, sentence("world"))]))
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    status, out, err = terminal_run(server, path, "--speed", "0", stdout_isatty=True, columns=12)
    assert status == 0 and err == ""
    assert "\r\x1b[Khel" in out and "\r\x1b[K…a long one" in out  # 11 columns: the end of the text
    assert "\r\x1b[Khello there, a long one\n" in out and out.endswith("\r\x1b[Kworld\n")


def test_a_pipe_gets_one_line_per_sentence(make_server, tmp_path):
    server = make_server(Script(timed=[(0.1, sentence("hel")), (0.2, sentence("hello")),
                                       (0.3, new_sentence("world"))]))
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    status, out, _ = terminal_run(server, path, "--speed", "0")
    assert (status, out) == (0, "hello\nworld\n")


def test_progress_bar_on_a_terminal_stderr_when_the_transcript_goes_elsewhere(make_server,
                                                                             tmp_path):
    server = make_server(Script(timed=[(0.5, sentence("done"))]))
    path = write_audio(tmp_path / "a.wav", noise(1.0), 16000)
    status, out, err = terminal_run(server, path, "--speed", "4", stderr_isatty=True)
    assert (status, out) == (0, "done\n")
    assert "/1.0 s" in err and "%|" in err
    _, _, err = terminal_run(server, path, "--speed", "4", stderr_isatty=True, stdout_isatty=True)
    assert err == ""  # the live line on the same terminal shows the progress already
    _, _, err = terminal_run(server, path, "--speed", "4", "-q", stderr_isatty=True)
    assert err == ""


def test_a_terminal_on_stdin_is_refused_before_connecting(server):
    status, out, err = terminal_run(server, "-", stdin_isatty=True)
    assert (status, out) == (2, "")
    assert err == ("asrx: error: stdin is a terminal: pipe audio into `asrx transcribe -`, "
                   "or give a file\n")
    assert server.records == []
