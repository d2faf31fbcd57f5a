"""What a build of a one-file bank keeps for the next one, so that a small edit rebuilds fast.

A :class:`BuildState` holds the bank as it was checked (:class:`~deckgen.incremental.BankIndex`),
each note's head and rendered fields, the lock as written and the package's compressed pages.
The next build checks only the questions around the edit and renders only those that
changed; everything else comes from the state. The result is the bytes a cold build writes
(tests/test_buildstate.py compares them).

``deckgen build`` keeps the state in the user's cache folder, beside the render cache
(:func:`deckgen.rendercache.cache_folder`), one file per bank, as plain values (strings,
numbers, tuples) in Python's marshal format, which runs no code when read; a file that
another user could have written is not read. ``deckgen watch`` keeps it in memory. A state
is only ever an aid: one that is missing, damaged, or made by other code is not used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import sys
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from deckgen.incremental import BankIndex
from deckgen.lock import Lock, LockedNote, NoteTypeState
from deckgen.media import MediaFile
from deckgen.model import Deck, Question, Topic

STATE_FORMAT = 1
MAX_STATE_QUESTIONS = 50_000  # a larger bank keeps the render cache only: its state (over 200 MB)
# would take as long to write as a tenth of its cold build, and most of the cache's bound
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
    lock: Lock  # the Lock it holds, parsed
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
            # Only a file of this user's that nobody else may write.
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
                return None
            data = f.read()
        head = len(_MAGIC) + 4
        if not data.startswith(_MAGIC) or zlib.crc32(data[head:]) != int.from_bytes(
            data[len(_MAGIC) : head], "big"
        ):
            return None  # another format, or damaged: a CRC-32 catches what a disk garbles
        return _from_plain(marshal.loads(data[head:]))
    except Exception:  # a damaged or foreign state is only not used
        return None


def _write(path: Path, state: BuildState) -> None:
    tmp = ""
    try:
        data = marshal.dumps(_to_plain(state))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".cache", dir=path.parent)
        with os.fdopen(fd, "wb") as f:  # mkstemp's file is the user's alone (0600)
            f.write(_MAGIC + zlib.crc32(data).to_bytes(4, "big"))
            f.write(data)
        os.replace(tmp, path)
        tmp = ""
    except (OSError, ValueError):
        pass
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.remove(tmp)


# The state as plain values, and back. Questions and locked notes, thousands of them, are
# made without their classes' __init__ (frozen dataclasses without __post_init__): that
# alone is most of the time it takes to read a state.

_MAGIC = b"deckgen build state\n"
_QUESTION = tuple(f.name for f in fields(Question))
_LOCKED = tuple(f.name for f in fields(LockedNote))
assert _LOCKED == ("guid", "kind", "content", "mod", "retired"), "update _to_plain's lock"


def _to_plain(state: BuildState) -> tuple[Any, ...]:
    index, deck, lock = state.index, state.index.deck, state.lock
    assert isinstance(lock, Lock)
    questions = [
        (
            q.id,
            q.kind,
            q.texts if type(q.texts) is dict else dict(q.texts),
            q.tags,
            q.retired,
            q.line,
            {url: (str(m.path), m.name, m.sha256) for url, m in q.media.items()} if q.media else {},
        )
        for _, q in deck.questions
    ]
    topics = [(t.name, t.tag, len(t.questions)) for t in deck.topics]
    plain_deck = (deck.name, deck.id, deck.description, deck.tags, topics, questions)
    plain_index = (
        index.data,
        plain_deck,
        [str(p) for p in deck.sources],
        index.lines,
        index.nodes,
        index.chars,
        index.fronts,
        index.topic_of,
        index.first,
        index.columns,
        index.ends,
        index.other_nodes,
        {str(p): stamp for p, stamp in index.media.items()},
    )
    plain_lock = (
        {k: (t.id, t.fields, t.templates, t.style, t.mod) for k, t in lock.note_types.items()},
        {k: (n.guid, n.kind, n.content, n.mod, n.retired) for k, n in lock.notes.items()},
        {k: (n.guid, n.kind, n.content, n.mod, n.retired) for k, n in lock.removed.items()},
        dict(lock.renderer),
        lock.version,
    )
    return (
        state.salt,
        state.source,
        plain_index,
        state.heads,
        state.fields,
        state.lock_digest,
        plain_lock,
        state.chunks,
    )


def _from_plain(plain: tuple[Any, ...]) -> BuildState:
    salt, source, plain_index, heads, note_fields, digest, plain_lock, chunks = plain
    (data, plain_deck, sources, lines, nodes, chars, fronts, topic_of, first, *rest) = plain_index
    columns, ends, other_nodes, stamps = rest
    name, deck_id, description, tags, topics, rows = plain_deck
    new = object.__new__
    questions = []
    for qid, kind, texts, qtags, retired, line, media in rows:
        q = new(Question)
        q.__dict__.update(
            zip(
                _QUESTION,
                (
                    qid,
                    kind,
                    texts,
                    qtags,
                    retired,
                    line,
                    {url: MediaFile(Path(p), n, h) for url, (p, n, h) in media.items()},
                ),
                strict=True,
            )
        )
        questions.append(q)
    built, at = [], 0
    for topic_name, tag, count in topics:
        built.append(Topic(topic_name, tag, tuple(questions[at : at + count])))
        at += count
    deck = Deck(name, deck_id, description, tags, tuple(built), tuple(map(Path, sources)))
    index = BankIndex(
        data, deck, lines, nodes, chars, fronts, topic_of, first, columns, ends, other_nodes
    )
    index.media = {Path(p): (stamp[0], stamp[1], stamp[2]) for p, stamp in stamps.items()}
    types, notes, removed, renderer, version = plain_lock

    def locked(entries: dict[str, tuple[Any, ...]]) -> dict[str, LockedNote]:
        out = {}
        for key, values in entries.items():
            note = new(LockedNote)
            note.__dict__.update(zip(_LOCKED, values, strict=True))
            out[key] = note
        return out

    lock = Lock(
        {k: NoteTypeState(*v) for k, v in types.items()},
        locked(notes),
        locked(removed),
        renderer,
        version,
    )
    return BuildState(salt, source, index, heads, note_fields, digest, lock, chunks)
