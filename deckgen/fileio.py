"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deckgen.errors import BuildError


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it replaces ``path``, so that
    ``path`` is either the old file or the complete new one, never half written. The folder
    is created when missing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as e:
        raise BuildError(f"cannot write {path}: {e.strerror or e}") from e
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp makes the file private; ours are not
        tmp.replace(path)
    except OSError as e:
        raise BuildError(f"cannot write {path}: {e.strerror or e}") from e
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` through :func:`atomic_output`."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def write_new_file(path: Path, text: str) -> None:
    """Create ``path`` with ``text``; an existing file is an error and stays as it was."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise BuildError(f"{path} already exists; it was left as it was") from None
    except OSError as e:
        raise BuildError(f"cannot write {path}: {e.strerror or e}") from e
