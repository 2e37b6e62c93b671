"""No output may be an input: `-o g.wav g.wav` would empty the recording before it is read.

Files are compared as the kernel sees them (device and inode), so a hard
link, a symbolic link or another spelling of the path is caught as well. The
check is made before anything is opened for writing.
"""

import os
import stat
from typing import Dict, Iterable, Optional, Tuple

from asrx_cli.errors import UsageError

FileId = Tuple[int, int]


def file_id(path: str) -> Optional[FileId]:
    """(device, inode) of the regular file `path` names, following links; else None."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISREG(status.st_mode) else None


def refuse_inputs_as_outputs(inputs: Iterable[str], outputs: Iterable[Tuple[str, str]]):
    """Raise if an output (`(option, path)`) is the same file as one of `inputs`."""
    known: Dict[FileId, str] = {}
    for path in inputs:
        found = file_id(path)
        if found is not None:
            known.setdefault(found, path)
    for option, path in outputs:
        found = file_id(path)
        if found is not None and found in known:
            raise UsageError(f"{option} {path} is the input {known[found]}: "
                             "it would be overwritten before it is read")
