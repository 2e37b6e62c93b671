"""A config file that holds an API key others can read gets ssh's warning."""

import pytest

from tests.support.run import run_cli
from tests.support.scripted import Script, sentence

KEY = "file-key-93b1"
HELLO = Script(at_end=[sentence("hello")])


@pytest.fixture
def config(tmp_path):
    """The config file the tests' environment points at (XDG_CONFIG_HOME)."""
    path = tmp_path / "xdg-config" / "asrx" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def write(path, text, mode):
    path.write_text(text)
    path.chmod(mode)


def run_from_config(make_server, config, speech_wav, text, mode):
    server = make_server(HELLO, api_key=KEY)
    write(config, f'url = "{server.url}"\nspeed = 0\n' + text, mode)
    result = run_cli(["transcribe", speech_wav], api_key=None)
    assert (result.exit_code, result.stdout) == (0, "hello\n"), result.stderr
    return result


def warning(path):
    return (f"asrx: warning: {path} holds api_key and others can read it: chmod 600 {path}, "
            "or move the key into the keychain with `asrx login`\n")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_that_others_can_read_is_named_with_the_chmod_that_fixes_it(make_server, config,
                                                                          speech_wav, mode):
    result = run_from_config(make_server, config, speech_wav, f'api_key = "{KEY}"\n', mode)
    assert result.stderr == warning(config)
    assert KEY not in result.stderr


def test_a_key_only_its_owner_reads_gets_no_warning(make_server, config, speech_wav):
    result = run_from_config(make_server, config, speech_wav, f'api_key = "{KEY}"\n', 0o600)
    assert result.stderr == ""


def test_a_file_without_a_key_gets_no_warning(make_server, config, speech_wav):
    server = make_server(HELLO, api_key=KEY)
    write(config, f'url = "{server.url}"\nspeed = 0\n', 0o644)
    result = run_cli(["transcribe", speech_wav], api_key=KEY)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hello\n", "")


def test_the_servers_keys_count_too(config):
    write(config, '[serve]\napi_key = ["k1", "k2"]\n', 0o644)
    result = run_cli(["serve", "--help"], api_key=None)
    assert result.exit_code == 0
    assert result.stderr == warning(config)


def test_a_path_with_spaces_is_quoted_in_the_chmod(tmp_path, make_server, speech_wav):
    path = tmp_path / "my config.toml"
    write(path, f'api_key = "{KEY}"\n', 0o644)
    result = run_cli(["transcribe", "--url", make_server(HELLO, api_key=KEY).url, "--speed", "0",
                      speech_wav], api_key=None, env={"ASRX_CONFIG": str(path)})
    assert result.exit_code == 0, result.stderr
    assert f"chmod 600 '{path}'," in result.stderr
