"""A cache of rendered notes between builds, so that editing one answer re-renders one note.

An entry is a note's fields, keyed by everything they are made from: the note's kind, topic
name, id, texts and media names, and what renders them (deckgen's rendering code,
RENDER_VERSION, the Markdown and highlighting libraries' versions, Python's). So a hit is
exactly what rendering would give, and a build that uses the cache writes the same bytes
as one that does not.

Each bank has one file in the user's cache folder, never in the bank's (see
:func:`cache_folder`): the notes of its last build, written as they are rendered and renamed
into place when the build is done, so a reader only ever sees a whole file; each entry
carries a checksum. Files not used for longest go first once the folder passes
:data:`~deckgen.limits.MAX_CACHE_BYTES`. The cache is only ever an aid: a file that is
missing, unreadable, from another version or damaged is not used, and the notes are
rendered; one that cannot be written is not written.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from deckgen.fileio import drop_temporary
from deckgen.limits import MAX_CACHE_BYTES

if TYPE_CHECKING:
    from deckgen.notes import Source

CACHE_FORMAT = 1
DISABLE_ENV = "DECKGEN_NO_CACHE"  # any value but '' or '0' turns the cache off
FOLDER_ENV = "DECKGEN_CACHE_DIR"  # where the cache lives instead of the user's cache folder
_MAGIC = b"deckgen render cache\n"
_ENTRY = struct.Struct("<16sII")  # key, length of the fields, CRC-32 of the fields
_STALE_TMP = 86_400  # seconds after which a temporary file is a dead build's
# The modules whose code decides a note's HTML: a change to any of them is a new cache.
_RENDERING_CODE = ("notes.py", "notetypes.py", "render")


def cache_folder() -> Path | None:
    """Where the render cache lives, ``None`` when it is turned off: $DECKGEN_CACHE_DIR, else
    the user's cache folder ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS,
    %LOCALAPPDATA% on Windows), in a ``deckgen`` folder."""
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    explicit = os.environ.get(FOLDER_ENV)
    if explicit:
        return Path(explicit)
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "deckgen" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "deckgen"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else home / ".cache") / "deckgen"


def open_cache(source: Path, folder: Path | None = None) -> RenderCache | None:
    """The render cache of the bank ``source`` in ``folder`` (default: :func:`cache_folder`),
    or ``None`` when the cache is turned off."""
    folder = folder or cache_folder()
    if folder is None:
        return None
    try:
        where = os.fsencode(source.resolve())
    except (OSError, RuntimeError):
        return None
    bank = hashlib.blake2b(where, digest_size=16).hexdigest()
    return RenderCache(folder / f"render-{CACHE_FORMAT}" / f"{bank}.cache")


class RenderCache:
    """One bank's cache file, for one build: the previous build's notes to read, and this
    build's notes written as they come. Every method fails quietly: see the module."""

    def __init__(self, path: Path, *, limit: int = MAX_CACHE_BYTES) -> None:
        self.path = path
        self.limit = limit
        self.salt = _salt()
        self.out: BinaryIO | None = None
        self.tmp = ""  # the new file's name until it is renamed into place
        self.written = 0

    def keys(self, sources: Sequence[Source]) -> list[bytes]:
        """The key of each source: a hash of it and of what renders it. (Neither separator
        can occur in a validated text.)"""
        keys = []
        for kind, topic, qid, texts, media in sources:
            parts = [kind, topic, qid, *(f"{k}\x1e{v}" for k, v in sorted(texts.items()))]
            if media:
                parts += ["\x1d", *(f"{url}\x1e{name}" for url, name in sorted(media.items()))]
            digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16, key=self.salt)
            keys.append(digest.digest())
        return keys

    def is_warm(self) -> bool:
        """Whether a previous build of this bank left notes to reuse."""
        try:
            with self.path.open("rb") as f:
                return f.read(len(_MAGIC) + len(self.salt)) == _MAGIC + self.salt
        except OSError:
            return False

    def get_many(self, keys: Sequence[bytes]) -> dict[int, tuple[str, ...]]:
        """The fields the previous build cached for each key found, by its index in ``keys``.
        The file is read as a stream: only the entries found are held."""
        wanted = {key: index for index, key in enumerate(keys)}
        found: dict[int, tuple[str, ...]] = {}
        try:
            with self.path.open("rb", buffering=1 << 20) as f:
                if f.read(len(_MAGIC) + len(self.salt)) != _MAGIC + self.salt:
                    return {}  # another version's, or not a cache file at all
                while head := f.read(_ENTRY.size):
                    key, size, crc = _ENTRY.unpack(head)
                    index = wanted.get(key)
                    if index is None:
                        f.seek(size, os.SEEK_CUR)
                        continue
                    value = f.read(size)
                    if len(value) != size or zlib.crc32(value) != crc:
                        return {}  # damaged: render everything
                    found[index] = tuple(value.decode().split("\x1f"))
        except (OSError, struct.error, UnicodeDecodeError):
            return {}
        return found

    def add(self, key: bytes, fields: Sequence[str]) -> None:
        """Write one note of this build to the new cache file."""
        if self.written < 0:
            return
        try:
            if self.out is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, self.tmp = tempfile.mkstemp(
                    prefix=".tmp-", suffix=".cache", dir=self.path.parent
                )
                self.out = os.fdopen(fd, "wb", buffering=1 << 20)
                self.out.write(_MAGIC + self.salt)
            value = "\x1f".join(fields).encode()
            self.written += _ENTRY.size + len(value)
            if self.written > self.limit:
                raise OSError("larger than the cache's bound")
            self.out.write(_ENTRY.pack(key, len(value), zlib.crc32(value)))
            self.out.write(value)
        except OSError:
            self._discard()

    def commit(self) -> None:
        """Put the new cache file in place of the old one, and keep the folder in its
        bound."""
        if self.out is None:
            return
        try:
            self.out.close()
            self.out = None
            os.replace(self.tmp, self.path)
            self.tmp = ""
        except OSError:
            self._discard()
            return
        with contextlib.suppress(OSError):
            _evict(self.path.parent, self.limit)

    def close(self) -> None:
        """Drop a new file that was not committed."""
        self._discard()

    def _discard(self) -> None:
        self.written = -1
        drop_temporary(self.out, self.tmp)
        self.out, self.tmp = None, ""


def _evict(folder: Path, limit: int) -> None:
    """Remove the cache files used longest ago while the folder holds more than ``limit``
    bytes, and temporary files that a build left behind."""
    now = time.time()
    files = []
    for entry in os.scandir(folder):
        info = entry.stat()
        if entry.name.startswith(".tmp-"):
            if now - info.st_mtime > _STALE_TMP:
                os.remove(entry.path)
        elif entry.name.endswith(".cache"):
            files.append((info.st_mtime, info.st_size, entry.path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= limit:
            break
        os.remove(path)
        total -= size


@functools.cache
def _salt() -> bytes:
    """What renders a note, as a key for the hash: a change to any part is a new cache."""
    from deckgen.render import RENDER_VERSION, renderer_versions

    # deckgen's own version is not needed: its rendering code, hashed below, is what counts.
    parts = [
        f"format {CACHE_FORMAT}",
        f"html {RENDER_VERSION}",
        *(f"{name} {v}" for name, v in sorted(renderer_versions().items())),
        f"python {sys.version_info[0]}.{sys.version_info[1]}",
    ]
    code = hashlib.sha256("\n".join(parts).encode())
    # The rendering code itself, so that a changed checkout never reads stale HTML.
    package = Path(__file__).parent
    for name in _RENDERING_CODE:
        path = package / name
        for file in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            with contextlib.suppress(OSError):
                code.update(file.name.encode() + b"\0" + file.read_bytes())
    return code.digest()
