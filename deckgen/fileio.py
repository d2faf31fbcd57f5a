"""Writing files so that a reader never sees half of one, and a build never leaves half of
a release: the package and its lock change together or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from deckgen.errors import BuildError, PathError

# Signals that end a build early; they wait while a transaction renames its files.
_DEFERRED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def drop_temporary(out: BinaryIO | None, tmp: str) -> None:
    """Close ``out`` and remove the temporary file ``tmp``, both quietly: what a cache does
    with a file it will not keep."""
    if out is not None:
        with contextlib.suppress(OSError):
            out.close()
    if tmp:
        with contextlib.suppress(OSError):
            os.remove(tmp)


def check_paths(*, reads: Mapping[str, Path], writes: Mapping[str, Path]) -> None:
    """Refuse with :class:`PathError` when two of the named paths are one file, or when a
    path to write exists and is not a regular file: a command must never write over its own
    input, nor replace a device, a folder or a pipe with a regular file."""
    for what, path in writes.items():
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            if path.is_symlink():
                raise PathError(f"{what} {path} is a link to a missing file") from None
            continue
        except OSError as e:
            raise PathError(f"cannot use {path} as the {what}: {e.strerror or e}") from e
        if not stat.S_ISREG(mode):
            raise PathError(f"{what} {path} exists and is not a regular file")
    named = [*reads.items(), *writes.items()]
    for i, (what, path) in enumerate(named):
        for other, other_path in named[:i]:
            if _same_file(path, other_path):
                raise PathError(f"the {what} and the {other} are the same file: {path}")


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


class Transaction:
    """Files staged beside their destinations, renamed into place together by
    :meth:`commit`. Until then nothing changes; if anything fails, every destination keeps
    its old content and no temporary file is left."""

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}

    def stage(self, path: Path) -> Path:
        """A new temporary file in ``path``'s folder (created when missing) to write the new
        content of ``path`` to."""
        if path.is_symlink():  # write the file the link points to, keep the link
            path = path.resolve()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
        except OSError as e:
            raise BuildError(f"cannot write {path}: {e.strerror or e}") from e
        self._staged[path] = Path(name)
        return Path(name)

    def commit(self) -> None:
        """Rename every staged file over its destination, in the order staged. Signals wait
        until all are in place; if one rename fails, the ones before it are undone."""
        umask = os.umask(0)
        os.umask(umask)
        done: list[tuple[Path, Path | None]] = []
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
        try:
            for path, tmp in self._staged.items():
                backup = None
                try:
                    tmp.chmod(0o666 & ~umask)  # mkstemp makes the file private; ours are not
                    backup = _backup(path)
                    tmp.replace(path)
                except OSError as e:
                    if backup is not None:
                        backup.unlink(missing_ok=True)
                    _undo(done)
                    raise BuildError(f"cannot write {path}: {e.strerror or e}") from e
                done.append((path, backup))
            for _, backup in done:
                if backup is not None:
                    backup.unlink(missing_ok=True)
            self._staged.clear()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def discard(self) -> None:
        """Remove every staged file that was not committed."""
        for tmp in self._staged.values():
            tmp.unlink(missing_ok=True)
        self._staged.clear()


def _backup(path: Path) -> Path | None:
    """A hard link to the current ``path``, to put back if a later rename fails."""
    if not path.exists():
        return None
    backup = path.with_name(f".{path.name}.{os.getpid()}.old")
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)
    except OSError:  # a file system without hard links
        shutil.copy2(path, backup)
    return backup


def _undo(done: list[tuple[Path, Path | None]]) -> None:
    for path, backup in reversed(done):
        if backup is None:
            path.unlink(missing_ok=True)
        else:
            backup.replace(path)


@contextmanager
def transaction() -> Iterator[Transaction]:
    """A :class:`Transaction` that is discarded unless it was committed."""
    staged = Transaction()
    try:
        yield staged
    finally:
        staged.discard()


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
