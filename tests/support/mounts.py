"""Small file systems for tests of full and read-only disks: real tmpfs mounts, where allowed."""

import contextlib
import subprocess

import pytest


@contextlib.contextmanager
def tmpfs(folder, options: str):
    """`folder` as a tmpfs mounted with `options` ("size=64k", "ro"); the test is skipped where
    this process may not mount (not root, or in a container without the capability)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
