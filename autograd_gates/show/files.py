"""Write an output file whole or not at all: a failed write never leaves half a file behind.

``write_file(path, data)`` writes to a new temporary file beside ``path`` and renames it
over ``path`` (``os.replace``, atomic on POSIX and Windows), so a full disk, a file-size
limit or an interrupt leaves the old file as it was (or no file) and removes the
temporary. The new file gets the permissions a plain ``open(path, "w")`` would give: the
old file's, or the umask's. A symlink is written through (its target is replaced); a
path that is not a regular file (``/dev/stdout``, a FIFO) is written directly.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

__all__ = ["write_file"]


def _temporary_beside(path: Path) -> tuple[int, Path]:
    """A new file in ``path``'s folder, opened for writing, with the mode ``open`` would give."""
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(candidate, flags, 0o666), candidate  # 0o666 & ~umask, as open() gives
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}")  # pragma: no cover


def write_file(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` atomically; return the path."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = Path(path)
    if not str(path) or str(path) == ".":
        raise ValueError("the output path is empty; give a file name")
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "wb") as f:  # a device or a pipe: nothing to replace
            f.write(data)
        return path
    fd, temporary = _temporary_beside(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None and stat.S_ISREG(mode):
            os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return path
