"""More --jobs than the server takes sessions: the files it turns away (HTTP 503, Retry-After)
wait their turn and are all transcribed."""

from tests.support.batch_files import HEARD, files_in, good
from tests.support.run import run_transcribe


def test_more_jobs_than_the_server_takes_sessions_transcribes_every_file(make_server, tmp_path):
    server = make_server(HEARD, max_sessions=2, retry_after="1")
    paths = [good(tmp_path, f"in/{index}.wav", 1.0, index) for index in range(5)]
    out = tmp_path / "out"
    result = run_transcribe(server, "--jobs", "5", "--speed", "4", "--retry-delay", "0.05",
                            "--output-dir", out, *paths)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "asrx: 5 transcribed"
    assert files_in(out) == {f"{index}.txt": "listening\nheard 1.00 s\n" for index in range(5)}
    assert server.busy_refusals >= 3 and server.most_open_sessions == 2
    assert "the server is busy (HTTP 503 Service Unavailable); connecting again" in result.stderr
