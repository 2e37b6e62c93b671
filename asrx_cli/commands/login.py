"""`asrx login` and `asrx logout`: the API key into and out of the OS keychain."""

import os

import click

from asrx_cli import keychain
from asrx_cli.apikey import holds_api_key
from asrx_cli.config import config_path
from asrx_cli.environment import Environment
from asrx_cli.errors import EXIT_STATUS_HELP, UsageError

MAX_KEY_BYTES = 64 * 1024  # far beyond any key: stdin that never ends is not read whole


@click.command(epilog=EXIT_STATUS_HELP)
@click.pass_context
def login(ctx):
    """Store the API key in the OS keychain.

    The key is read from a hidden prompt, or from stdin when it is not a
    terminal (echo "$KEY" | asrx login). It goes into the macOS Keychain, the
    Windows Credential Locker or the Secret Service of a Linux desktop, where
    `asrx transcribe` finds it after --api-key and ASRX_API_KEY and before the
    config file. Without a keychain (a server with no desktop session), set
    ASRX_API_KEY or put api_key in the config file instead.
    """
    env = ctx.find_object(Environment)
    key = _read_key(env)
    try:
        keychain.store(key)
    except keychain.KeychainUnavailable as exc:
        raise UsageError(f"{exc.message}: nothing stored; "
                         + keychain.ALTERNATIVES.format(config=config_path())) from None
    click.echo(f"asrx: the API key is stored in the keychain ({keychain.backend_name()})",
               file=env.stderr)
    _note_other_sources(ctx, env)


@click.command(epilog=EXIT_STATUS_HELP)
@click.pass_context
def logout(ctx):
    """Remove the API key that `asrx login` stored in the OS keychain."""
    env = ctx.find_object(Environment)
    try:
        removed = keychain.delete()
    except keychain.KeychainUnavailable as exc:
        raise UsageError(f"{exc.message}: nothing to remove") from None
    where = f"the keychain ({keychain.backend_name()})"
    click.echo(f"asrx: the API key is removed from {where}" if removed
               else f"asrx: no API key in {where}", file=env.stderr)


def _read_key(env: Environment) -> str:
    if env.stdin_isatty:
        text = click.prompt("API key", hide_input=True, err=True, default="", show_default=False)
    else:
        data = env.stdin.read(MAX_KEY_BYTES)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError("the key on stdin is not UTF-8 text: nothing stored") from None
    key = text.strip()
    if not key:
        raise UsageError("the key is empty: nothing stored")
    if "\n" in key or "\r" in key:
        raise UsageError("the key must be one line: nothing stored")
    return key


def _note_other_sources(ctx: click.Context, env: Environment) -> None:
    """Where a key that comes before, or an old copy, still lives."""
    if os.environ.get("ASRX_API_KEY"):
        click.echo("asrx: note: ASRX_API_KEY is set here and comes before the keychain",
                   file=env.stderr)
    default_map = ctx.find_root().default_map or {}
    if holds_api_key({"transcribe": default_map.get("transcribe", {})}):
        click.echo(f"asrx: note: {config_path()} still holds api_key, which the keychain now comes "
                   "before: remove it from there", file=env.stderr)
