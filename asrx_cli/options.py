"""Options shared by several commands, defined once."""

import click

verbose_option = click.option(
    "-v", "--verbose", is_flag=True, help="Log the protocol exchange to stderr (the API key masked)."
)


def quiet_option(help: str = "Print nothing but the transcript and errors."):
    return click.option("-q", "--quiet", is_flag=True, help=help)
