"""`asrx completion SHELL`: bash runs the script asrx prints and completes as a user's shell
would."""

import ctypes.util
import json
import os
import shutil
import subprocess

import pytest

from tests.support.run import ASRX, run_asrx, subprocess_env

pytestmark = [
    pytest.mark.skipif(not os.path.exists(ASRX), reason=f"asrx is not installed at {ASRX}"),
    pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed"),
]

# Calls the completion function bash would call on TAB, with the words typed so far.
COMPLETE = 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _asrx_completion asrx; ' \
           'printf "%s\\n" "${COMPREPLY[@]}"'


def asrx_env(**extra):
    env = subprocess_env(**extra)
    env["PATH"] = os.path.dirname(ASRX) + os.pathsep + env.get("PATH", "")
    return env


@pytest.fixture
def bash_script(tmp_path):
    result = run_asrx("completion", "bash", env=asrx_env(), text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    path = tmp_path / "asrx.bash"
    path.write_text(result.stdout)
    return path


def complete(script, line, **extra):
    """What TAB offers after `line` (a trailing space: a new, empty word)."""
    words = line.split(" ")
    result = subprocess.run(["bash", "-c", COMPLETE, str(script), *words], env=asrx_env(**extra),
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    return [word for word in result.stdout.splitlines() if word]


def test_an_option_completes_from_its_start(bash_script):
    assert complete(bash_script, "asrx transcribe --fo") == ["--format"]


def test_the_formats_complete_after_format(bash_script):
    assert (complete(bash_script, "asrx transcribe --format ")
            == ["text", "json", "raw", "srt", "vtt"])
    assert complete(bash_script, "asrx transcribe --format s") == ["srt"]


def test_subcommands_and_shells_complete(bash_script):
    assert complete(bash_script, "asrx ") == ["completion", "devices", "login", "logout", "serve",
                                              "transcribe"]
    assert complete(bash_script, "asrx completion ") == ["bash", "zsh", "fish"]
    assert "--max-sessions" in complete(bash_script, "asrx serve --max")


def test_audio_completes_as_files(tmp_path):
    """What asrx answers the script: bash's own file completion for AUDIO, not a list of words."""
    result = run_asrx(env=asrx_env(COMP_WORDS="asrx transcribe spe", COMP_CWORD="2",
                                   _ASRX_COMPLETE="bash_complete"), text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "file,spe\n", "")


FILE_PCM = """pcm.{name} {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "/dev/zero"
    format "raw"
    hint {{ show on description "asrx test device" }}
}}
"""


@pytest.mark.skipif(ctypes.util.find_library("portaudio") is None
                    or ctypes.util.find_library("asound") is None,
                    reason="PortAudio or ALSA is not installed")
def test_device_names_complete_as_asrx_devices_lists_them(bash_script, tmp_path):
    """Two ALSA capture devices declared in the .asoundrc of a home of our own."""
    (tmp_path / ".asoundrc").write_text(FILE_PCM.format(name="asrx_test_mic")
                                        + FILE_PCM.format(name="asrx_test_mic_two"))
    listed = run_asrx("devices", "--json", env=asrx_env(HOME=str(tmp_path)), text=True, timeout=60)
    names = [json.loads(line)["name"] for line in listed.stdout.splitlines()]
    assert {"asrx_test_mic", "asrx_test_mic_two"} <= set(names)
    offered = complete(bash_script, "asrx transcribe --mic --device asrx_te", HOME=str(tmp_path))
    assert offered == ["asrx_test_mic", "asrx_test_mic_two"]
    assert complete(bash_script, "asrx transcribe --mic --device ", HOME=str(tmp_path)) == names


def test_device_completion_with_a_broken_sound_setup_offers_nothing_and_says_nothing(bash_script,
                                                                                     tmp_path):
    """An .asoundrc that ALSA cannot parse: the shell gets no words and no error."""
    (tmp_path / ".asoundrc").write_text("pcm.broken { type\n")
    assert complete(bash_script, "asrx transcribe --mic --device asrx", HOME=str(tmp_path)) == []


def test_zsh_and_fish_scripts_register_asrx():
    for shell, registration in (("zsh", "compdef _asrx_completion asrx"),
                                ("fish", "complete --no-files --command asrx")):
        result = run_asrx("completion", shell, env=asrx_env(), text=True, timeout=60)
        assert result.returncode == 0 and registration in result.stdout, shell


def test_an_unknown_shell_is_a_usage_error():
    result = run_asrx("completion", "tcsh", env=asrx_env(), text=True, timeout=60)
    assert result.returncode == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr
