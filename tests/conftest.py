import os

import numpy as np
import pytest
import soundfile

from tests.fakeserver import Script, ScriptedServer
from tests.rawserver import RawServer

API_KEY = "test-key-5f3a9c"


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
    """Hostile servers on raw sockets (tests/rawserver.py): `raw_server(handle, receive_buffer=...)`."""
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


def noise(seconds: float, rate: int = 16000, channels: int = 1, seed: int = 1) -> np.ndarray:
    """Full-scale-ish int16 noise: every sample counts in an exactness test."""
    generator = np.random.default_rng(seed)
    shape = (int(seconds * rate), channels) if channels > 1 else (int(seconds * rate),)
    return generator.integers(-20000, 20000, size=shape, dtype=np.int16)


def tones(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """A mix of tones well inside 8 kHz, float32 in [-0.8, 0.8]."""
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1234.5 * t) + 0.1 * np.sin(2 * np.pi * 3000 * t)
    if channels == 1:
        return mono.astype(np.float32)
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


def write_audio(path, data, rate, **options):
    soundfile.write(str(path), data, rate, **options)
    return str(path)


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
