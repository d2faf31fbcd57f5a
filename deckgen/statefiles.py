"""Where a bank's build state is kept (:mod:`deckgen.buildstate`), and its files read and
checked, with nothing of what makes a state of them: ``deckgen build`` starts reading them
(:class:`Prefetch`) while it imports the rest of deckgen.

Two files per bank, in the cache folder beside the render cache: the state, whose bytes end
with a CRC-32 of what follows its magic line, and the package's collection, whose size and
CRC-32 the state records. A file is read only if it is the user's own and nobody else may
write it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import zlib
from pathlib import Path
from typing import BinaryIO

STATE_FORMAT = 1  # in the file names
MAGIC = b"deckgen build state 4\n"  # the state file's first line: its layout


def state_path(source: Path) -> Path | None:
    """The file of a bank's build state, ``None`` when the cache is turned off."""
    from deckgen.rendercache import CACHE_FORMAT, cache_folder

    folder = cache_folder()
    if folder is None:
        return None
    bank = hashlib.blake2b(os.fsencode(where(source)), digest_size=16).hexdigest()
    # In the render cache's folder, named like its files, so that one bound holds both.
    return folder / f"render-{CACHE_FORMAT}" / f"{bank}-state{STATE_FORMAT}.cache"


def collection_path(source: Path) -> Path | None:
    """The file of the collection a bank's build state keeps, ``None`` when the cache is
    turned off."""
    path = state_path(source)
    return path.with_name(path.name.replace("-state", "-collection")) if path else None


def where(source: Path) -> str:
    """The bank's resolved path: what names its state, and what the state records."""
    try:
        return str(source.resolve())
    except (OSError, RuntimeError):
        return str(source)


def own_file(path: Path) -> BinaryIO | None:
    """``path`` opened, if it is a file of this user's that nobody else may write."""
    f = path.open("rb")
    info = os.fstat(f.fileno())
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        f.close()
        return None
    return f


# What tells a file from the one that replaced it at its path: device, inode, size, mtime.
Identity = tuple[int, int, int, int]


def identity(info: os.stat_result) -> Identity:
    """The :data:`Identity` of a file from its ``stat``."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def size_and_crc_of(path: Path) -> tuple[tuple[int, int], Identity] | None:
    """The size and CRC-32 of the file at ``path``, and the identity of the file they are
    of, if it is the user's own (see :func:`own_file`)."""
    try:
        f = own_file(path)
        if f is None:
            return None
        with f:
            size = crc = 0
            while block := f.read(1 << 20):
                size += len(block)
                crc = zlib.crc32(block, crc)
            return (size, crc), identity(os.fstat(f.fileno()))
    except OSError:
        return None


def read_state(path: Path) -> memoryview | None:
    """The body of the state file at ``path`` (between its magic line and its CRC-32), if
    it is the user's own, of this layout, and not damaged."""
    try:
        f = own_file(path)
        if f is None:
            return None
        with f:
            data = f.read()
    except OSError:
        return None
    body = memoryview(data)[len(MAGIC) : -4]
    if not data.startswith(MAGIC) or zlib.crc32(body) != int.from_bytes(data[-4:], "big"):
        return None  # another layout, or damaged: a CRC-32 catches what a disk garbles
    return body


class Prefetch:
    """A bank's state file and its collection's size and CRC-32, read on a thread from the
    moment it is made (reading and CRC-32s let go of the GIL): the build that then loads the
    state (:meth:`deckgen.buildstate.StateHolder.load`) takes them from here."""

    def __init__(self, path: Path, collection: Path) -> None:
        self.path, self.collection = path, collection
        self._body: memoryview | None = None
        self._check: tuple[tuple[int, int], Identity] | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, source: Path) -> Prefetch | None:
        """Start reading the state of the one-file bank ``source``; ``None`` when it has
        none to read (a folder bank, the cache turned off)."""
        if source.is_dir():
            return None
        path, collection = state_path(source), collection_path(source)
        if path is None or collection is None or not path.is_file():
            return None
        return cls(path, collection)

    def _read(self) -> None:
        self._body = read_state(self.path)
        if self._body is not None:
            self._check = size_and_crc_of(self.collection)

    def result(self) -> tuple[memoryview | None, tuple[tuple[int, int], Identity] | None]:
        """The state's body, and the collection's size and CRC-32 with the identity of the
        file they are of, once read."""
        self._thread.join()
        return self._body, self._check
