"""What a build of a one-file bank keeps for the next one, so that a small edit rebuilds fast.

A :class:`BuildState` holds the bank as it was checked (:class:`~deckgen.incremental.BankIndex`),
each note's head and rendered fields, the lock as written and the package's compressed pages.
The next build checks only the questions around the edit and renders only those that
changed; everything else comes from the state. The result is the bytes a cold build writes
(tests/test_buildstate.py compares them).

``deckgen build`` keeps the state in the user's cache folder, beside the render cache
(:func:`deckgen.rendercache.cache_folder`), one file per bank, in Python's pickle format:
like Python's own ``__pycache__``, the folder is the user's, and a file that another user
could have written is not read. ``deckgen watch`` keeps it in memory. A state is only ever
an aid: one that is missing, damaged, or made by other code is not used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deckgen.incremental import BankIndex

STATE_FORMAT = 1
MAX_STATE_QUESTIONS = 200_000  # a larger bank is rebuilt in full: its state would not pay
HeadRow = tuple[str, str, str, tuple[str, ...], str, bool]  # a NoteHead, its kind by name


@dataclass
class BuildState:
    """A build's bank, notes, lock and package pages, for the next build of the bank."""

    salt: bytes  # the code that made it: another code's state is not used
    source: str  # the bank's resolved path
    index: BankIndex
    heads: list[HeadRow]
    fields: list[tuple[str, ...]]
    lock_digest: bytes  # of the lock file as this build left it
    lock: object  # the Lock it holds, parsed
    chunks: bytes  # the package writer's compressed pages


class StateHolder:
    """Where a build finds the previous build's state and leaves its own: in memory for a
    process that builds again and again, else on disk in the cache folder."""

    def __init__(self, *, memory: bool = False) -> None:
        self.memory = memory
        self.state: BuildState | None = None

    def load(self, source: Path) -> BuildState | None:
        """The state of the previous build of ``source``, if it is usable."""
        if self.memory:
            state = self.state
        else:
            path = state_path(source)
            state = _read(path) if path is not None else None
        if state is None or state.salt != code_salt() or state.source != _where(source):
            return None
        return state

    def save(self, source: Path, state: BuildState | None) -> None:
        """Keep ``state`` for the next build (``None`` forgets the last one)."""
        if self.memory:
            self.state = state
            return
        path = state_path(source)
        if path is None:
            return
        if state is None:
            with contextlib.suppress(OSError):
                path.unlink()
            return
        _write(path, state)


def state_path(source: Path) -> Path | None:
    """The file of a bank's build state, ``None`` when the cache is turned off."""
    from deckgen.rendercache import CACHE_FORMAT, cache_folder

    folder = cache_folder()
    if folder is None:
        return None
    where = _where(source)
    bank = hashlib.blake2b(os.fsencode(where), digest_size=16).hexdigest()
    # In the render cache's folder, named like its files, so that one bound holds both.
    return folder / f"render-{CACHE_FORMAT}" / f"{bank}-state{STATE_FORMAT}.cache"


def lock_digest(data: bytes) -> bytes:
    """What tells a lock file from another."""
    return hashlib.blake2b(data, digest_size=16).digest()


@functools.cache
def code_salt() -> bytes:
    """deckgen's code (every module) and what it renders with: a change is a new state."""
    from deckgen.rendercache import _salt

    code = hashlib.sha256(_salt())
    code.update(f"state {STATE_FORMAT} {sys.version}".encode())
    package = Path(__file__).parent
    for file in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            code.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes())
    return code.digest()


def heads_rows(heads: Sequence[object]) -> list[HeadRow]:
    """Note heads as plain rows (their kind by name), as a state keeps them."""
    return [(h[0], h[1], h[2].name, h[3], h[4], h[5]) for h in heads]  # type: ignore[index]


def _where(source: Path) -> str:
    try:
        return str(source.resolve())
    except (OSError, RuntimeError):
        return str(source)


def _read(path: Path) -> BuildState | None:
    try:
        with path.open("rb") as f:
            info = os.fstat(f.fileno())
            # Only a file of this user's that nobody else may write: unpickling runs code.
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
                return None
            state = pickle.load(f)
    except Exception:
        return None
    return state if isinstance(state, BuildState) else None


def _write(path: Path, state: BuildState) -> None:
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".cache", dir=path.parent)
        with os.fdopen(fd, "wb") as f:  # mkstemp's file is the user's alone (0600)
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = ""
    except (OSError, pickle.PicklingError):
        pass
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.remove(tmp)
