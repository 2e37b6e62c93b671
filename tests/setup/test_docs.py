"""The man page and README keep up with the commands."""

import re

import click
import pytest

from asrx_cli.cli import cli
from asrx_cli.errors import ExitStatus
from tests.support import REPO
from tests.support.run import run_cli

ROOT = REPO
MAN = (ROOT / "man" / "asrx.1").read_text(encoding="utf-8").replace("\\-", "-")
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = ["transcribe", "serve", "devices", "login", "logout", "completion"]


def options_of(name):
    command = cli.get_command(click.Context(cli), name)
    for param in command.params:
        if isinstance(param, click.Option):
            yield param


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_and_environment_variable_is_in_the_man_page(name):
    assert f"asrx {name}" in MAN
    missing = [opt for param in options_of(name) for opt in param.opts + param.secondary_opts
               if opt.startswith("--") and opt not in MAN]
    assert missing == [], f"options of `asrx {name}` missing from man/asrx.1"
    envvars = [param.envvar for param in options_of(name) if param.envvar]
    assert [var for var in envvars if var not in MAN] == []


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_in_the_readme(name):
    missing = [param.opts[-1] for param in options_of(name)
               if param.opts[-1].startswith("--") and param.opts[-1] not in README]
    assert missing == [], f"options of `asrx {name}` missing from README.md"


def test_every_exit_status_is_documented():
    man_statuses = set(re.findall(r"^\.B (\d+)$", MAN, re.MULTILINE))
    assert man_statuses == {str(int(status)) for status in ExitStatus}
    for status in ExitStatus:
        assert re.search(rf"^\| {int(status)} ", README, re.MULTILINE), \
            f"exit status {int(status)} in README"


def test_readme_set_up_is_make_demo_then_make_test():
    commands = re.findall(r"^\s*(make \w+)", README, re.MULTILINE)
    assert commands[:2] == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_help_names_the_environment_variables():
    result = run_cli(["transcribe", "--help"])
    assert result.exit_code == 0
    for var in ("ASRX_URL", "ASRX_API_KEY", "ASRX_SPEED", "ASRX_CHUNK_MS", "ASRX_FINAL_TIMEOUT"):
        assert var in result.stdout
