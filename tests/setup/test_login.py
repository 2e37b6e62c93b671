"""`asrx login`/`logout` and the key's lookup order, against a real keyring backend.

Each test has a home of its own. keyring's own configuration (keyringrc.cfg
under XDG_CONFIG_HOME, or PYTHON_KEYRING_BACKEND) selects keyrings.alt's file
backend, which keeps its store under XDG_DATA_HOME; the runs are subprocesses
of the installed `asrx`, as a user's would be.
"""

import os
import pty
import select
import subprocess
import sys

import pytest

from tests.support.run import ASRX, run_asrx, start_asrx, subprocess_env
from tests.support.scripted import Script, sentence

pytestmark = pytest.mark.skipif(not os.path.exists(ASRX), reason=f"asrx is not installed at {ASRX}")

KEY = "sk-live-7d41c0ffee"  # what each test stores: it must never appear in any output
FILE_BACKEND = "keyrings.alt.file.PlaintextKeyring"
HELLO = Script(at_end=[sentence("hello")])


class Home:
    """A user's home: its config file, its keychain, its environment."""

    def __init__(self, root):
        self.root = root
        self.config_dir = root / "config"
        self.data_dir = root / "data"
        self.config = self.config_dir / "asrx" / "config.toml"
        self.select_backend(FILE_BACKEND)

    def select_backend(self, name):
        """keyring's per-user configuration names the backend, as a user would write it."""
        rc = self.config_dir / "python_keyring" / "keyringrc.cfg"
        rc.parent.mkdir(parents=True, exist_ok=True)
        if name is None:
            rc.unlink()
        else:
            rc.write_text(f"[backend]\ndefault-keyring = {name}\n")

    def write_config(self, text, mode=0o600):
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text)
        self.config.chmod(mode)

    def env(self, **extra):
        env = subprocess_env(HOME=str(self.root), XDG_CONFIG_HOME=str(self.config_dir),
                             XDG_DATA_HOME=str(self.data_dir), XDG_RUNTIME_DIR=str(self.root))
        for name in ("ASRX_API_KEY", "PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS"):
            env.pop(name, None)  # the key and the keychain come from this home alone
        env.update(extra)
        return env

    def run(self, *args, input=None, **extra):
        options = {} if input is None else {"input": input}
        result = run_asrx(*args, env=self.env(**extra), text=True, timeout=60, **options)
        assert KEY not in result.stdout + result.stderr, "the key was printed"
        return result

    def login(self, key=KEY, **extra):
        return self.run("login", input=f"{key}\n", **extra)

    def files_holding(self, text):
        return [path for path in self.root.rglob("*")
                if path.is_file() and text.encode() in path.read_bytes()]


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


def transcribe(home, server, audio, *args, **extra):
    return home.run("transcribe", "--url", server.url, "--speed", "0", *args, audio, **extra)


def test_the_server_sees_the_key_that_login_stored(home, make_server, speech_wav):
    result = home.login()
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "asrx: the API key is stored in the keychain (file PlaintextKeyring)\n"
    # the backend's store
    assert [path.name for path in home.data_dir.rglob("*.cfg")] == ["keyring_pass.cfg"]
    server = make_server(HELLO, api_key=KEY)
    result = transcribe(home, server, speech_wav, "--verbose")
    assert (result.returncode, result.stdout) == (0, "hello\n"), result.stderr
    assert server.record.headers["apikey"] == KEY


def test_logout_removes_the_key(home, make_server, speech_wav):
    assert home.login().returncode == 0
    result = home.run("logout")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == ("asrx: the API key is removed from the keychain "
                             "(file PlaintextKeyring)\n")
    result = transcribe(home, make_server(HELLO, api_key=KEY), speech_wav)
    assert result.returncode == 2
    assert result.stderr.startswith("asrx: error: no API key: ")
    again = home.run("logout")
    assert (again.returncode, again.stderr) == (
        0, "asrx: no API key in the keychain (file PlaintextKeyring)\n")


SOURCES = ["--api-key", "ASRX_API_KEY", "keychain", "config file"]


@pytest.mark.parametrize("winner", SOURCES)
def test_the_key_comes_from_the_first_source_that_has_one(home, make_server, speech_wav, winner):
    """Each source below the winner holds a key of its own, which the server would refuse."""
    given = SOURCES[SOURCES.index(winner):]
    server = make_server(HELLO, api_key=f"key-from-{winner}")
    if "keychain" in given:
        assert home.login(key="key-from-keychain").returncode == 0
    if "config file" in given:
        home.write_config('api_key = "key-from-config file"\n')
    args = ["--api-key", "key-from---api-key"] if "--api-key" in given else []
    env = {"ASRX_API_KEY": "key-from-ASRX_API_KEY"} if "ASRX_API_KEY" in given else {}
    result = transcribe(home, server, speech_wav, *args, **env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello\n", "")
    assert server.record.headers["apikey"] == f"key-from-{winner}"


def test_a_broken_keychain_never_stops_a_run_with_its_key_elsewhere(home, make_server, speech_wav):
    home.select_backend("asrx_no_such_module.Keyring")  # a configured backend that cannot load
    server = make_server(HELLO, api_key=KEY)
    from_env = transcribe(home, server, speech_wav, ASRX_API_KEY=KEY)
    assert (from_env.returncode, from_env.stdout, from_env.stderr) == (0, "hello\n", "")
    home.write_config(f'api_key = "{KEY}"\n')
    from_file = transcribe(home, server, speech_wav)
    assert (from_file.returncode, from_file.stdout) == (0, "hello\n")
    assert from_file.stderr == ("asrx: warning: the configured keyring backend does not load: "
                                "ModuleNotFoundError: No module named 'asrx_no_such_module'; "
                                "using api_key from the config file\n")


def test_a_broken_keychain_and_no_other_key_is_a_usage_error(home, make_server, speech_wav):
    home.select_backend("asrx_no_such_module.Keyring")
    result = transcribe(home, make_server(HELLO), speech_wav)
    assert result.returncode == 2
    assert result.stderr == ("asrx: error: no API key: "
                             "the configured keyring backend does not load: "
                             "ModuleNotFoundError: No module named 'asrx_no_such_module'\n")


def no_keychain_message(home):
    return ("asrx: error: no keychain is available here (keyring found no recommended backend): "
            "nothing stored; set ASRX_API_KEY in the environment, "
            f"or put api_key in the config file {home.config} (chmod 600)\n")


def test_without_a_keychain_login_says_so_in_one_line_and_stores_nothing(home):
    result = home.login(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", no_keychain_message(home))
    assert home.files_holding("sk-live") == [] and not home.data_dir.exists()
    logout = home.run("logout", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    assert logout.returncode == 2
    assert logout.stderr == ("asrx: error: no keychain is available here "
                             "(keyring found no recommended backend): nothing to remove\n")


@pytest.mark.skipif(sys.platform != "linux", reason="a Linux home without a desktop session")
def test_a_plain_text_backend_is_never_chosen_silently(home):
    """keyrings.alt is installed: keyring alone would fall back on its plain-text file."""
    home.select_backend(None)
    result = home.login()
    assert (result.returncode, result.stderr) == (2, no_keychain_message(home))
    assert not home.data_dir.exists()


def test_a_keychain_that_fails_to_store_says_why_in_one_line(home):
    """The file backend's store is a directory: writing it fails, as a locked or broken keychain
    would."""
    (home.data_dir / "python_keyring" / "keyring_pass.cfg").mkdir(parents=True)
    result = home.login()
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("asrx: error: the keychain (file PlaintextKeyring) failed: "
                                    "IsADirectoryError: ")
    assert result.stderr.endswith(": nothing stored; set ASRX_API_KEY in the environment, "
                                  f"or put api_key in the config file {home.config} (chmod 600)\n")
    assert len(result.stderr.splitlines()) == 1


def test_the_key_on_stdin_must_not_be_empty(home):
    for empty in ("", "\n", "  \n"):
        result = home.run("login", input=empty)
        assert (result.returncode, result.stderr) == (
            2, "asrx: error: the key is empty: nothing stored\n")
    assert not home.data_dir.exists()


def test_login_at_a_terminal_prompts_without_echo(home, make_server, speech_wav):
    primary, secondary = pty.openpty()
    with start_asrx("login", env=home.env(), stdin=secondary, stderr=secondary) as process:
        os.close(secondary)
        seen = b""
        while b"API key:" not in seen:
            assert select.select([primary], [], [], 30)[0], f"no prompt, only {seen!r}"
            seen += os.read(primary, 1024)
        os.write(primary, f"{KEY}\n".encode())
        stdout = process.stdout.read()
        assert process.wait(timeout=30) == 0
    seen += _drain(primary)
    os.close(primary)
    assert stdout == b""
    assert KEY.encode() not in seen  # the terminal never showed it
    assert b"stored in the keychain" in seen
    server = make_server(HELLO, api_key=KEY)
    assert transcribe(home, server, speech_wav).returncode == 0


def _drain(fd) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def test_login_points_at_the_key_left_in_the_config_file(home):
    home.write_config('api_key = "old-key"\n', mode=0o644)
    result = home.login()
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"asrx: warning: {home.config} holds api_key and others can read it: "
        f"chmod 600 {home.config}, or move the key into the keychain with `asrx login`",
        "asrx: the API key is stored in the keychain (file PlaintextKeyring)",
        f"asrx: note: {home.config} still holds api_key, which the keychain now comes before: "
        "remove it from there",
    ]


def test_login_says_when_the_environment_comes_before_the_keychain(home):
    result = home.login(ASRX_API_KEY="other")
    assert result.returncode == 0
    assert result.stderr.splitlines()[-1] == ("asrx: note: ASRX_API_KEY is set here "
                                              "and comes before the keychain")


PROBE = """
import sys
from asrx_cli.cli import main
status = main(sys.argv[1:], standalone_mode=False)
print("keyring" in sys.modules, status, file=sys.stderr)
"""


def imports_keyring(home, *args, **extra):
    """Whether `asrx ARGS` loaded keyring; the run must succeed."""
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], env=home.env(**extra),
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    loaded, status = result.stderr.splitlines()[-1].split()
    assert status == "0", result.stderr
    return loaded == "True"


def test_keyring_is_loaded_only_when_the_key_is_looked_up(home, make_server, speech_wav):
    server = make_server(HELLO, api_key=KEY)
    assert not imports_keyring(home, "transcribe", "--url", server.url, "--api-key", KEY,
                               speech_wav)
    assert not imports_keyring(home, "transcribe", "--url", server.url, speech_wav,
                               ASRX_API_KEY=KEY)
    for args in (["--help"], ["--version"], ["transcribe", "--help"], ["serve", "--help"],
                 ["completion", "bash"]):
        assert not imports_keyring(home, *args), args
    home.write_config(f'api_key = "{KEY}"\n')
    assert imports_keyring(home, "transcribe", "--url", server.url, speech_wav)
