"""The API key in the OS keychain, through keyring.

keyring is imported here only, and only when a key is looked up or stored:
`asrx --help`, `asrx serve` and a run given its key never load it. Among the
backends keyring finds by itself only its recommended ones count (the macOS
Keychain, the Windows Credential Locker, the Secret Service, KWallet): a
plain-text file is used only when keyring's own configuration names it
(PYTHON_KEYRING_BACKEND, or keyringrc.cfg), never chosen silently.
"""

from typing import Optional

from asrx_cli.errors import UsageError

SERVICE = "asrx"
USERNAME = "api_key"

ALTERNATIVES = ("set ASRX_API_KEY in the environment, or put api_key in the config file "
                "{config} (chmod 600)")


class KeychainUnavailable(UsageError):
    """No keychain here, or one that fails: what asrx login/logout report."""


class NoKeychain(KeychainUnavailable):
    """keyring found no backend (a headless server)."""


def _keyring():
    """keyring, its backend chosen among the recommended ones unless configured."""
    try:
        import keyring
        import keyring.core
    except ImportError:
        raise NoKeychain("the keyring package is not installed") from None
    try:
        keyring.core.init_backend(limit=keyring.core.recommended)
    except Exception as exc:  # a configured backend that does not load
        raise KeychainUnavailable("the configured keyring backend does not load: "
                                  f"{_reason(exc)}") from None
    return keyring


def _call(operation: str, *args):
    """keyring's `operation` on asrx's entry; its failure becomes one line of ours."""
    keyring = _keyring()
    from keyring.errors import NoKeyringError

    try:
        return getattr(keyring, operation)(SERVICE, USERNAME, *args)
    except NoKeyringError:
        raise NoKeychain("no keychain is available here "
                         "(keyring found no recommended backend)") from None
    except Exception as exc:  # D-Bus gone, a locked or broken store: never a traceback
        raise KeychainUnavailable(f"the keychain ({backend_name()}) failed: "
                                  f"{_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def lookup() -> Optional[str]:
    """The stored key, or None; raises KeychainUnavailable."""
    return _call("get_password") or None


def store(key: str) -> None:
    _call("set_password", key)


def delete() -> bool:
    """Remove the stored key; False when there was none."""
    if lookup() is None:
        return False
    _call("delete_password")
    return True


def backend_name() -> str:
    """The backend in use, as keyring names it (e.g. "SecretService Keyring")."""
    try:
        backend = _keyring().get_keyring()
    except Exception:  # only a label for a message
        return "keyring"
    return getattr(backend, "name", type(backend).__name__)
