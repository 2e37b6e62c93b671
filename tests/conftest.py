"""The fixtures every test module may ask for; what tests share otherwise is in tests/support."""

import os

import pytest

from tests.support import API_KEY
from tests.support.audio import noise, write_audio
from tests.support.rawserver import RawServer
from tests.support.scripted import Script, ScriptedServer


def stopped_at_teardown(make):
    """A fixture's body: hands out `make` and stops whatever it made when the test ends."""
    servers = []

    def start(*args, **options):
        server = make(*args, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_server():
    def make(script=None, **options):
        options.setdefault("api_key", API_KEY)
        return ScriptedServer(script or Script(), **options).start()

    yield from stopped_at_teardown(make)


@pytest.fixture
def raw_server():
    """Hostile servers on raw sockets (tests/rawserver.py):
    `raw_server(handle, receive_buffer=...)`."""
    yield from stopped_at_teardown(RawServer)


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """No user config, no ASRX_* variables from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("ASRX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    # keyring's own "no backend": never the developer's keychain
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture
def speech_wav(tmp_path):
    """A second of noise, as a 16-bit WAV file: audio for tests of anything but the audio."""
    return write_audio(tmp_path / "speech.wav", noise(1.0), 16000, subtype="PCM_16")


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory):
    """A private CA's certificate for 127.0.0.1, made with openssl."""
    import ssl
    import subprocess

    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=asrx test CA", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context, str(cert)
