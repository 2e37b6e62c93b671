"""Options shared by several commands, defined once."""

import click

verbose_option = click.option(
    "-v", "--verbose", is_flag=True,
    help="Log the protocol exchange to stderr (the API key masked)."
)


def quiet_option(help: str = "Print nothing but the transcript and errors."):
    return click.option("-q", "--quiet", is_flag=True, help=help)


def env_option(*param_decls, envvar: str, **attrs):
    """An option that the environment variable `envvar` can also set; its help shows both and
    the default."""
    return click.option(*param_decls, envvar=envvar, show_envvar=True, show_default=True, **attrs)
