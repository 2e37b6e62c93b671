"""`asrx completion SHELL`: the shell's completion script, click's shell completion underneath."""

import click

from asrx_cli.errors import EXIT_STATUS_HELP

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_ASRX_COMPLETE"  # what click's scripts set to ask asrx for completions


@click.command(epilog=EXIT_STATUS_HELP)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx, shell):
    """Print the completion script for SHELL (bash, zsh or fish).

    It completes subcommands, options, their choices, files for AUDIO and
    device names for --device. Where to put it:

    \b
    bash:  asrx completion bash > ~/.local/share/bash-completion/completions/asrx
    zsh:   asrx completion zsh > ~/.zfunc/_asrx   (with fpath+=~/.zfunc before compinit)
    fish:  asrx completion fish > ~/.config/fish/completions/asrx.fish
    """
    from click.shell_completion import get_completion_class

    script = get_completion_class(shell)(ctx.find_root().command, {}, "asrx", COMPLETE_VAR)
    click.echo(script.source())


def complete_audio(ctx, param, incomplete):
    """AUDIO: the shell's own file completion."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(incomplete, type="file")]


def complete_device(ctx, param, incomplete):
    """--device: the names (or, after a digit, the indices) of the input devices, as
    `asrx devices` lists them."""
    from click.shell_completion import CompletionItem

    try:
        from asrx_cli.audio.input_devices import import_sounddevice, input_devices

        found = input_devices(import_sounddevice())
    except Exception:  # no PortAudio, no devices: nothing to offer, and never an error in the shell
        return []
    if incomplete.isdigit():
        return [CompletionItem(str(d.index), help=d.name) for d in found
                if str(d.index).startswith(incomplete)]
    return [CompletionItem(d.name) for d in found if d.name.lower().startswith(incomplete.lower())]
