"""What a build of a one-file bank keeps for the next one, so that a small edit rebuilds fast.

A :class:`BuildState` holds the bank as it was checked (:class:`~deckgen.incremental.BankIndex`),
each note's head and rendered fields, the lock as written and the package's compressed pages.
The next build checks only the questions around the edit and renders only those that
changed; everything else comes from the state. The result is the bytes a cold build writes
(tests/test_buildstate.py compares them).

``deckgen build`` keeps the state in the user's cache folder, beside the render cache
(:func:`deckgen.rendercache.cache_folder`), two files per bank: the state, as plain values
(strings, numbers, tuples) in Python's marshal format, which runs no code when read, with a
CRC-32; and the package's collection (SQLite), whose size and CRC-32 the state records
(:mod:`deckgen.statefiles` finds and reads them). The notes' fields stay in the collection:
the next package copies the rows of the notes that did not change from it, and no Python
object is made of them. Each question's texts are kept marshalled on their own and decoded
only when read (:class:`StoredTexts`); a frame of questions an edit left alone is written
again as it was read. Files that another user could have written are not read. ``deckgen
watch`` keeps the state in memory, the fields included. A state is only ever an aid: one
that is missing, damaged, or made by other code is not used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import operator
import os
import sqlite3
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO

from deckgen.fileio import drop_temporary
from deckgen.incremental import BankIndex
from deckgen.lock import Lock, LockedNote, NoteTypeState
from deckgen.media import MediaFile
from deckgen.model import Deck, Question, Topic
from deckgen.notes import NoteHead
from deckgen.statefiles import (
    MAGIC,
    STATE_FORMAT,
    Identity,
    Prefetch,
    collection_path,
    identity,
    state_path,
    where,
)
from deckgen.zipwriter import DeflateChunks

MAX_STATE_QUESTIONS = 50_000  # a larger bank keeps the render cache only: its state (over 200 MB)
# would take as long to write as a tenth of its cold build, and most of the cache's bound
HeadRow = tuple[str, str, str, tuple[str, ...], str, bool]  # a NoteHead, its kind by name


@dataclass
class BuildState:
    """A build's bank, notes, lock and package pages, for the next build of the bank."""

    salt: bytes  # the code that made it: another code's state is not used
    source: str  # the bank's resolved path
    index: BankIndex
    heads: Sequence[HeadRow | NoteHead]  # the notes' heads (as rows once written to a file)
    fields: list[tuple[str, ...]]  # every note's fields, in a state kept in memory (else empty)
    lock_digest: bytes  # of the lock file as this build left it
    lock: Lock  # the Lock it holds, parsed
    chunks: bytes | DeflateChunks  # the package writer's compressed pages (as read, bytes)
    first_row: int = 0  # the package's id of the first note; the next ones follow by 2
    # A state on disk: the package's collection, kept beside it (its size and CRC-32 first).
    collection_check: tuple[int, int] = (0, 0)  # as the package's zip has them
    collection: Path | None = None  # once checked
    # Not kept: the identity of the collection file that was checked. Another build of the
    # bank may replace the file at that path: what reads it by path checks it is still this.
    collection_identity: Identity | None = None
    head_key: bytes = b""  # what the collection's head is made from (package.head_key)
    head: bytes = b""  # the collection before its notes (package.CollectionFiles.head)
    lock_formatted: bool = False  # the lock file is format_lock(lock), as a build wrote it
    # Not kept: a state read from a file has the frames of its questions, as read, with the
    # questions made of them; a next state writes a frame again if its questions are those.
    frames: list[tuple[Sequence[Question], memoryview]] = field(default_factory=list)

    def deflate_chunks(self) -> DeflateChunks:
        """The compressed pages, for the package writer to reuse."""
        if isinstance(self.chunks, DeflateChunks):
            return self.chunks  # kept in memory: not dumped and loaded again
        return DeflateChunks.load(self.chunks, checksum=False)  # the state's CRC-32 covers them

    def names_collection(self, path: Path) -> bool:
        """Whether ``path`` names the collection file checked when the state was read
        (what opened the path before asking this opened that file)."""
        try:
            return identity(os.stat(path)) == self.collection_identity
        except OSError:
            return False

    def row(self, index: int) -> int:
        """The id of the row of note ``index`` in the previous package's collection."""
        return self.first_row + 2 * index

    def fields_of(self, index: int) -> tuple[str, ...] | None:
        """The fields of note ``index``, from memory or from the collection."""
        if self.fields:
            return self.fields[index]
        if self.collection is None:
            return None
        try:
            db = sqlite3.connect(self.collection)
            try:
                found = db.execute(
                    "SELECT flds FROM notes WHERE id = ?", (self.row(index),)
                ).fetchone()
                if not self.names_collection(self.collection):
                    return None  # SQLite may have read another build's collection
            finally:
                db.close()
        except (sqlite3.Error, OSError):
            return None
        return tuple(found[0].split("\x1f")) if found else None


class StateHolder:
    """Where a build finds the previous build's state and leaves its own: in memory for a
    process that builds again and again, else on disk in the cache folder."""

    def __init__(self, *, memory: bool = False, prefetched: Prefetch | None = None) -> None:
        self.memory = memory
        self.state: BuildState | None = None
        self.prefetched = prefetched  # the state's files, being read since the command began

    def load(self, source: Path) -> BuildState | None:
        """The state of the previous build of ``source``, if it is usable."""
        if self.memory:
            return self.state if self._describes(self.state, source) else None
        path, collection = state_path(source), collection_path(source)
        if path is None or collection is None:
            return None
        early, self.prefetched = self.prefetched, None
        if early is None or (early.path, early.collection) != (path, collection):
            early = Prefetch(path, collection)
        body, checked = early.result()
        state = _parse(body) if body is not None else None
        if state is None or not self._describes(state, source):
            return None
        if checked is None or checked[0] != state.collection_check:
            return None
        state.collection, state.collection_identity = collection, checked[1]
        return state

    @staticmethod
    def _describes(state: BuildState | None, source: Path) -> bool:
        """Whether ``state`` is of ``source``, made by this code."""
        return state is not None and state.salt == code_salt() and state.source == where(source)

    def can_keep(self, source: Path) -> bool:
        """Whether a state of ``source`` can be kept (on disk, unless the cache is off)."""
        return self.memory or state_path(source) is not None

    def start(self, source: Path) -> FieldSink:
        """Where a build puts each note's fields as they are rendered, and then its state
        (see :meth:`FieldSink.finish`): in memory, the fields; on disk, the package's
        collection, which has them."""
        if self.memory:
            return _MemorySink(self, source)
        path, collection = state_path(source), collection_path(source)
        if path is None or collection is None:
            return FieldSink()
        return _FileSink(path, collection)

    def forget(self, source: Path) -> None:
        """Drop the state of ``source``: its last build left none that describes it."""
        if self.memory:
            self.state = None
            return
        for path in (state_path(source), collection_path(source)):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()


class FieldSink:
    """Takes a build's fields as they are rendered, then the rest of its state; this one
    keeps nothing (the cache is turned off)."""

    def begin(self, index: BankIndex) -> None:
        """Take the bank's index before the notes come (a file sink writes the bank's bytes
        at once and lets go of them: ``index.data`` is then empty)."""

    def add(self, fields: tuple[str, ...]) -> None:
        """Take the fields of the next note (a file sink has them in the collection)."""

    def collection(self) -> Path | None:
        """Where the package writer leaves its collection, if the state keeps it."""
        return None

    def finish(self, state: BuildState) -> None:
        """Keep ``state`` (its ``fields`` are those given to :meth:`add`)."""

    def discard(self) -> None:
        """Drop what was taken: the build did not finish."""


class _MemorySink(FieldSink):
    def __init__(self, holder: StateHolder, source: Path) -> None:
        self.holder = holder
        self.fields: list[tuple[str, ...]] = []

    def add(self, fields: tuple[str, ...]) -> None:
        self.fields.append(fields)

    def finish(self, state: BuildState) -> None:
        state.fields = self.fields
        self.holder.state = state


class _FileSink(FieldSink):
    """Writes frames to a temporary file beside the state's: the bank's bytes first, then
    the rest, then a CRC-32 of it all; and has the package writer leave its collection in
    another temporary file there."""

    def __init__(self, path: Path, collection: Path) -> None:
        self.path = path
        self.collection_final = collection
        self.crc = 0
        self.out: BinaryIO | None = None
        self.tmp = self.collection_tmp = ""
        self.writing: threading.Thread | None = None  # the bank's bytes, being written
        self.failed = False  # a write of that thread's failed
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, self.tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".cache", dir=path.parent)
            self.out = os.fdopen(fd, "wb")  # mkstemp's file is the user's alone (0600)
            self.out.write(MAGIC)
            fd, self.collection_tmp = tempfile.mkstemp(
                prefix=".tmp-", suffix=".anki2", dir=path.parent
            )
            os.close(fd)  # SQLite takes an empty file for an empty database
        except OSError:
            self.discard()

    def begin(self, index: BankIndex) -> None:
        # Written first and dropped: the bytes need not stay in memory while the notes are
        # rendered and written, when the build takes the most. Written on a thread while
        # the build goes on (writing and a CRC-32 let go of the GIL); see _wait.
        data = marshal.dumps(("data", len(index.data)))
        pieces = (len(data).to_bytes(4, "big"), data, index.data)
        index.data = b""
        if self.out is not None:
            self.writing = threading.Thread(target=self._write_all, args=(pieces,))
            self.writing.start()

    def _write_all(self, pieces: Sequence[bytes | memoryview]) -> None:
        """Write ``pieces`` (on the writing thread: a failure is noted for _wait)."""
        try:
            self._write(*pieces)
        except (OSError, ValueError):
            self.failed = True

    def _wait(self) -> None:
        """Let the writing thread finish; drop the state if its writes failed."""
        if self.writing is not None:
            self.writing.join()
            self.writing = None
            if self.failed:
                self.discard()

    def collection(self) -> Path | None:
        return Path(self.collection_tmp) if self.collection_tmp else None

    def finish(self, state: BuildState) -> None:
        self._wait()
        # The questions in frames of their own (the largest frame, made in memory before it
        # is written, is then a small part of the state), each question's texts marshalled
        # on their own after its frame: a next build decodes only those it reads.
        questions = [q for _, q in state.index.deck.questions]
        for number, at in enumerate(range(0, len(questions), _QUESTIONS_FRAME)):
            group = questions[at : at + _QUESTIONS_FRAME]
            if number < len(state.frames):
                was, frame = state.frames[number]
                if len(was) == len(group) and all(map(operator.is_, group, was)):
                    try:
                        self._write(frame)  # the same questions: the same bytes
                    except (OSError, ValueError):
                        self.discard()
                    continue
            rows, texts = _question_rows(group)
            self._frame(("questions", rows), raw=b"".join(texts))
        chunks = state.chunks
        if isinstance(chunks, DeflateChunks):
            chunks = chunks.dump(checksum=False)  # the state's CRC-32 covers them
        self._frame(("chunks", len(chunks)), raw=chunks)
        if self.out is None or not self.collection_tmp:
            return
        try:
            self._frame(("state", _to_plain(state)))
            self.out.write(self.crc.to_bytes(4, "big"))
            self.out.close()
            self.out = None
            # The collection first: a state is only used with the collection it describes.
            os.replace(self.collection_tmp, self.collection_final)
            self.collection_tmp = ""
            os.replace(self.tmp, self.path)
            self.tmp = ""
        except (OSError, ValueError):
            self.discard()

    def discard(self) -> None:
        self._wait()
        drop_temporary(self.out, self.tmp)
        drop_temporary(None, self.collection_tmp)
        self.out, self.tmp, self.collection_tmp = None, "", ""

    def _write(self, *pieces: bytes | memoryview) -> None:
        """Write ``pieces`` (a frame, or frames, whole) and take them into the CRC-32."""
        if self.out is None:
            return
        for piece in pieces:
            self.crc = zlib.crc32(piece, self.crc)
            self.out.write(piece)

    def _frame(self, value: tuple[str, Any], *, raw: bytes | memoryview = b"") -> None:
        """Write a frame: its length and its marshalled value, then ``raw`` bytes as they
        are (the value says how many), not copied into the frame."""
        try:
            data = marshal.dumps(value)
            self._write(len(data).to_bytes(4, "big"), data, raw)
        except (OSError, ValueError):
            self.discard()


def lock_digest(data: bytes) -> bytes:
    """What tells a lock file from another."""
    return hashlib.blake2b(data, digest_size=16).digest()


@functools.cache
def code_salt() -> bytes:
    """deckgen's code (every module) and what it renders with: a change is a new state."""
    from deckgen.rendercache import _salt

    code = hashlib.sha256(_salt())
    code.update(f"state {STATE_FORMAT} {sys.version}".encode())
    # genanki's code too: it writes the head of the collection that a state keeps.
    packages = (Path(__file__).parent, _package_folder("genanki"))
    for package in (p for p in packages if p is not None):
        for file in sorted(package.rglob("*.py")):
            with contextlib.suppress(OSError):
                name = file.relative_to(package).as_posix().encode()
                code.update(name + b"\0" + file.read_bytes())
    return code.digest()


def _package_folder(name: str) -> Path | None:
    """Where an installed package's modules are, without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    places = spec.submodule_search_locations if spec is not None else None
    return Path(next(iter(places))) if places else None


def heads_rows(heads: Sequence[HeadRow | NoteHead]) -> list[HeadRow]:
    """Note heads as plain rows (their kind by name), as a state file keeps them."""
    return [(h[0], h[1], kind_name(h), h[3], h[4], h[5]) for h in heads]


def kind_name(head: HeadRow | NoteHead) -> str:
    """The name of a note head's kind, whether it is a row or a NoteHead."""
    kind = head[2]
    return kind if isinstance(kind, str) else kind.name


def _parse(body: memoryview) -> BuildState | None:
    """The state a state file's body holds (see statefiles.read_state), if it is whole."""
    try:
        parts: dict[str, Any] = {"questions": [], "texts": [], "data": b"", "chunks": b""}
        frames: list[tuple[int, memoryview]] = []  # each questions frame: its count, its bytes
        at = 0
        while at < len(body):
            start = at
            size = int.from_bytes(body[at : at + 4], "big")
            kind, value = marshal.loads(body[at + 4 : at + 4 + size])
            at += 4 + size
            if kind in ("data", "chunks"):  # the bytes follow the frame
                parts[kind] = bytes(body[at : at + value])
                at += value
            elif kind == "questions":  # each question's texts follow the frame
                parts[kind] += value
                for row in value:
                    parts["texts"].append(body[at : at + row[-1]])
                    at += row[-1]
                frames.append((len(value), body[start:at]))
            elif kind == "state" and at == len(body):
                state = _from_plain(value, parts)
                questions = state.index.questions()
                first = 0
                for count, frame in frames:
                    state.frames.append((questions[first : first + count], frame))
                    first += count
                return state
        return None
    except Exception:  # a damaged or foreign state is only not used
        return None


# The state as plain values, and back. Questions and locked notes, thousands of them, are
# made without their classes' __init__ (frozen dataclasses without __post_init__): that
# alone is most of the time it takes to read a state.

_QUESTIONS_FRAME = 1_000  # questions per frame: what the file writer holds at most
# The fields _to_plain writes and _from_plain sets, by name.
_QUESTION = ("id", "kind", "texts", "tags", "retired", "line", "media")
_LOCKED = ("guid", "kind", "content", "mod", "retired")
assert tuple(f.name for f in fields(Question)) == _QUESTION, "update _from_plain"
assert tuple(f.name for f in fields(LockedNote)) == _LOCKED, "update _from_plain"


class StoredTexts(Mapping[str, str]):
    """A question's texts as a state file keeps them (marshalled), decoded when first read:
    a rebuild reads few of them, and decoding them all took most of the time it took to
    read a state. Written to the next state as they came, without being decoded."""

    __slots__ = ("_texts", "blob")

    def __init__(self, blob: bytes | memoryview) -> None:
        self.blob = blob
        self._texts: dict[str, str] | None = None

    def _decoded(self) -> dict[str, str]:
        if self._texts is None:
            self._texts = marshal.loads(self.blob)
        return self._texts

    def __getitem__(self, key: str) -> str:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(self._decoded())

    def __reduce__(self) -> tuple[type[dict[str, str]], tuple[dict[str, str]]]:
        return dict, (dict(self._decoded()),)  # pickled (for a render worker) as a dict


def _texts_blob(texts: Mapping[str, str]) -> bytes | memoryview:
    if type(texts) is StoredTexts:
        return texts.blob
    return marshal.dumps(texts if type(texts) is dict else dict(texts))


def _question_rows(
    questions: Iterable[Question],
) -> tuple[list[tuple[Any, ...]], list[bytes | memoryview]]:
    """The questions as rows, each ending with the size of its texts, and their texts."""
    rows, texts = [], []
    for q in questions:
        blob = _texts_blob(q.texts)
        texts.append(blob)
        media: dict[str, tuple[str, str, str]] = {}
        if q.media:
            media = {url: (str(m.path), m.name, m.sha256) for url, m in q.media.items()}
        rows.append((q.id, q.kind, q.tags, q.retired, q.line, media, len(blob)))
    return rows, texts


def _to_plain(state: BuildState) -> tuple[Any, ...]:
    """The state as plain values, but for the bank's bytes, its questions and the package's
    chunks, which have frames of their own."""
    index, deck, lock = state.index, state.index.deck, state.lock
    topics = [(t.name, t.tag, len(t.questions)) for t in deck.topics]
    plain_deck = (deck.name, deck.id, deck.description, deck.tags, topics)
    plain_index = (
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
    heads = heads_rows(state.heads)
    rows = (
        state.first_row,
        state.collection_check,
        state.head_key,
        state.head,
        state.lock_formatted,
    )
    return (state.salt, state.source, plain_index, heads, state.lock_digest, plain_lock, rows)


def _from_plain(plain: tuple[Any, ...], parts: dict[str, Any]) -> BuildState:
    """The state from its "state" frame and the ``parts`` of the frames before it."""
    salt, source, plain_index, heads, digest, plain_lock, rows_etc = plain
    first_row, check, key, head, lock_formatted = rows_etc
    data, rows, texts, chunks = (parts[k] for k in ("data", "questions", "texts", "chunks"))
    (plain_deck, sources, lines, nodes, chars, fronts, topic_of, first, *rest) = plain_index
    columns, ends, other_nodes, stamps = rest
    name, deck_id, description, tags, topics = plain_deck
    new = object.__new__
    questions: list[Question] = []
    append = questions.append
    for (qid, kind, qtags, retired, line, media, _), blob in zip(rows, texts, strict=True):
        q = new(Question)
        q.__dict__.update(
            id=qid,
            kind=kind,
            texts=StoredTexts(blob),
            tags=qtags,
            retired=retired,
            line=line,
            media={url: MediaFile(Path(p), n, h) for url, (p, n, h) in media.items()}
            if media
            else {},
        )
        append(q)
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
        for key, (guid, kind, content, mod, retired) in entries.items():
            note = new(LockedNote)
            note.__dict__.update(guid=guid, kind=kind, content=content, mod=mod, retired=retired)
            out[key] = note
        return out

    lock = Lock(
        {k: NoteTypeState(*v) for k, v in types.items()},
        locked(notes),
        locked(removed),
        renderer,
        version,
    )
    state = BuildState(salt, source, index, heads, [], digest, lock, chunks, first_row, check)
    state.head_key, state.head, state.lock_formatted = key, head, lock_formatted
    return state
