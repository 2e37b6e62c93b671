"""`asrx devices`: the input devices --mic can capture from."""

import json

import click

from asrx_cli.errors import EXIT_STATUS_HELP


@click.command(epilog=EXIT_STATUS_HELP)
@click.option("--json", "json_output", is_flag=True,
              help="JSON Lines: index, name, hostapi, channels, default_rate, default.")
def devices(json_output):
    """List the input devices, the system's default marked with *.

    Each line gives the index and the name (either selects the device with
    `asrx transcribe --mic --device`), the host API, the most input channels
    and the default sample rate.
    """
    from asrx_cli.audio.input_devices import import_sounddevice, input_devices

    found = input_devices(import_sounddevice())
    for device in found:
        click.echo(json.dumps(device.record(), ensure_ascii=False) if json_output
                   else device.line())
    if not found and not json_output:
        click.echo("asrx: no input devices found", err=True)
