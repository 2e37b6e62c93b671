"""What `pip install` gives a user: the sdist and wheel of `python -m build`, in a fresh virtualenv.

The build and the install take about fifteen seconds and PyPI (the build's
setuptools, asrx's dependencies): marked slow (`pytest -m "not slow"` leaves
them out).
"""

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from asrx_cli import __version__
from tests.support import REPO
from tests.support.run import subprocess_env
from tests.support.scripted import Script, sentence

pytestmark = pytest.mark.slow

ROOT = REPO
MAN_PAGE = "share/man/man1/asrx.1"


def run(*args, **options):
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, timeout=600,
                            **options)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist and the wheel built from it, as `python -m build` makes them."""
    folder = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", folder, ROOT)
    sdists, wheels = list(folder.glob("asrx-*.tar.gz")), list(folder.glob("asrx-*.whl"))
    assert len(sdists) == len(wheels) == 1
    return sdists[0], wheels[0]


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory):
    """A fresh virtualenv with the wheel and its dependencies, nothing of the checkout."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", dist[1])
    return venv


def test_the_sdist_carries_the_man_page_and_the_readme(dist):
    with tarfile.open(dist[0]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"man/asrx.1", "README.md", "setup.cfg", "asrx_cli/cli.py"} <= names


def test_the_installed_asrx_names_its_versions(installed, tmp_path):
    result = run(installed / "bin" / "asrx", "--version", cwd=tmp_path, env=subprocess_env())
    lines = result.stdout.splitlines()
    assert lines[0] == f"asrx {__version__}"
    assert lines[1].startswith(f"Python {sys.version.split()[0]} (")
    assert ([line.split()[0] for line in lines[2:]]
            == ["libsndfile", "websocket-client", "PortAudio"])
    assert "not" not in lines[2] + lines[3]  # both are dependencies: always there
    assert result.stderr == ""


def test_the_installed_files_hold_the_man_page(installed):
    # cwd: not the checkout's folder, which -c would import from
    listing = run(installed / "bin" / "python", "-c",
                  "from importlib.metadata import distribution as d; import asrx_cli; "
                  "print(asrx_cli.__file__); print(*d('asrx').files, sep='\\n')",
                  cwd=installed).stdout.splitlines()
    assert Path(listing[0]).is_relative_to(installed)  # not the checkout
    man = [path for path in listing[1:] if path.endswith(MAN_PAGE)]
    assert len(man) == 1
    page = installed / MAN_PAGE
    assert page.read_bytes() == (ROOT / "man" / "asrx.1").read_bytes()
    if shutil.which("man"):
        found = run("man", "-w", "asrx",
                    env={**subprocess_env(), "MANPATH": str(installed / "share" / "man")})
        assert found.stdout.strip() == str(page)


def test_the_installed_asrx_transcribes(installed, make_server, speech_wav):
    server = make_server(Script(at_end=[sentence("hello")]), api_key="wheel-key")
    result = run(installed / "bin" / "asrx", "transcribe", "--url", server.url, "--speed", "0",
                 speech_wav, env=subprocess_env(ASRX_API_KEY="wheel-key"))
    assert (result.stdout, result.stderr) == ("hello\n", "")
