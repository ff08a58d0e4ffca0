"""Files written so that no reader ever sees half of one.

Contract:
- ``write_atomically(target, data)`` writes to a temporary name in the same folder that never
  ends in the target's suffix (``.<name>.<pid>.partial``), fsyncs it and renames it over the
  target: a process killed at any moment leaves either no file or a complete one under the
  target name. The temporary file is removed when the write fails.
- ``PARTIAL_SUFFIX`` ends every temporary name, so a later run can find and remove what a
  killed one left behind.
- Imports nothing of the engine: the weights importers, the batch and the command line all
  write through it.
"""

from __future__ import annotations

import os
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that no reader ever sees a half-written file.

    Raises:
        OSError: the folder cannot be created or written (disk full, no permission).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}{PARTIAL_SUFFIX}")
    try:
        with open(partial, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name points at them
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    # The rename itself survives a power cut only once the folder entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
