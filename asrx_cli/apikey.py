"""Where `asrx transcribe` finds its API key, and the config file that exposes one.

The order: --api-key, ASRX_API_KEY, the keychain (`asrx login`), the config
file. click resolves the first two and the config file; the keychain, which
may be slow (D-Bus) or broken, is asked only when neither of the first two
gave a key.
"""

import shlex
import stat
from pathlib import Path
from typing import Any, Dict, Optional, TextIO

import click

from asrx_cli import keychain
from asrx_cli.config import SERVE_TABLE
from asrx_cli.errors import UsageError

GIVEN = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)


def resolve_api_key(ctx: click.Context, value: Optional[str], stderr: TextIO) -> Optional[str]:
    """The key of the run: `value` is what click found (command line, environment, config file)."""
    if value and ctx.get_parameter_source("api_key") in GIVEN:
        return value
    try:
        return keychain.lookup() or value or None
    except keychain.NoKeychain:
        return value or None
    except keychain.KeychainUnavailable as exc:
        if not value:
            raise UsageError(f"no API key: {exc.message}") from None
        # A broken keychain never stops a run that has its key from elsewhere.
        click.echo(f"asrx: warning: {exc.message}; using api_key from the config file", file=stderr)
        return value


def holds_api_key(default_map: Dict[str, Dict[str, Any]]) -> bool:
    """Whether the config file (click's default_map) holds a key, the client's or the server's."""
    return any("api_key" in default_map.get(table, {}) for table in ("transcribe", SERVE_TABLE))


def exposed_key_warning(path: Path, default_map: Dict[str, Dict[str, Any]]) -> Optional[str]:
    """A warning when the config file holds a key that group or others can read, as ssh gives."""
    if not holds_api_key(default_map):
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    quoted = shlex.quote(str(path))
    return (f"asrx: warning: {path} holds api_key and others can read it: chmod 600 {quoted}, "
            "or move the key into the keychain with `asrx login`")
