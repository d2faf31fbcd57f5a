"""What a build takes from the previous build's state (see :mod:`deckgen.buildstate`): the
bank checked again around an edit, the lock not parsed again, and the heads and fields of the
notes that render as they did."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from deckgen.buildstate import BuildState, HeadRow, kind_name, lock_digest
from deckgen.errors import shown_path
from deckgen.incremental import BankIndex, Edit, recheck
from deckgen.lock import Lock, read_lock
from deckgen.model import Deck
from deckgen.notes import NoteHead, Source, learn_code, note_head, render_source
from deckgen.notetypes import KINDS


def check_again(
    source: Path, previous: BuildState, name: str | None
) -> tuple[BankIndex, Edit] | None:
    """The bank checked again around an edit of the previous build's (see
    :mod:`deckgen.incremental`), or ``None`` when it must be checked in full."""
    from deckgen.source import read_source

    shown = shown_path(source) if name is None else name
    data = read_source(source, name=shown)
    return recheck(previous.index, data, file=shown, folder=source.parent)


class LockAgain(NamedTuple):
    """The lock a build starts from (see :func:`read_lock_again`)."""

    lock: Lock | None
    digest: bytes | None  # of the file's bytes
    formatted: bytes | None  # the file, when it is format_lock(lock) as the last build wrote it


def read_lock_again(path: Path, previous: BuildState | None) -> LockAgain:
    """The lock at ``path``: the previous build's lock, not parsed again, if the file is
    still the one that build left."""
    if previous is not None:
        try:
            data = path.read_bytes() if path.is_file() else None
        except OSError:
            data = None
        if data is not None and lock_digest(data) == previous.lock_digest:
            formatted = data if previous.lock_formatted else None
            return LockAgain(previous.lock, previous.lock_digest, formatted)
    lock = read_lock(path)
    if lock is None:
        return LockAgain(None, None, None)
    try:
        return LockAgain(lock, lock_digest(path.read_bytes()), None)
    except OSError:
        return LockAgain(lock, None, None)


def heads_again(deck: Deck, previous: BuildState, *, edit: Edit) -> list[NoteHead]:
    """The heads of the notes of ``deck``: the previous build's for the questions the edit
    did not touch."""
    again = list(deck.questions)[edit.start : edit.new_stop]
    return [
        *_heads(previous.heads[: edit.start]),
        *(note_head(deck, topic, q) for topic, q in again),
        *_heads(previous.heads[edit.old_stop :]),
    ]


def _heads(kept: Sequence[HeadRow | NoteHead]) -> list[NoteHead]:
    """Heads of a previous build, as NoteHeads (a state read from a file has rows, with
    the kind by name)."""
    return [
        h if type(h) is NoteHead else NoteHead(h[0], h[1], KINDS[str(h[2])], h[3], h[4], h[5])
        for h in kept
    ]


class Known(NamedTuple):
    """What a build takes of the notes that render as they did, by the note's new index:
    their fields, from a state in memory, or the ids of their rows in the previous build's
    collection, from a state on disk."""

    fields: dict[int, tuple[str, ...]]
    rows: dict[int, int]  # whose fields are copied
    same: dict[int, int]  # whose rows are copied whole (see same_rows)

    def take(self, previous: BuildState, index: int, was: int) -> None:
        """Note ``index`` is the previous build's note ``was``, unchanged."""
        self.take_run(previous, index, was, 1)

    def take_run(self, previous: BuildState, index: int, was: int, count: int) -> None:
        """Notes ``index`` on are the previous build's notes ``was`` on, ``count`` of them."""
        places = range(index, index + count)
        if previous.collection is not None:
            first = previous.row(was)
            self.rows.update(zip(places, range(first, first + 2 * count, 2), strict=True))
        else:
            self.fields.update(zip(places, previous.fields[was : was + count], strict=True))


def known_again(previous: BuildState, deck: Deck, edit: Edit) -> Known:
    """What the previous build has of every note whose question renders as it did: all but
    the few the edit touched."""
    old = list(previous.index.deck.questions)
    known = Known({}, {}, {})
    # The questions before and after the edit are the previous build's, in order.
    known.take_run(previous, 0, 0, edit.start)
    count = len(old) - edit.old_stop
    known.take_run(previous, edit.new_stop, edit.old_stop, count)
    # The questions read again around the edit are mostly unchanged: matched by id.
    again = {old[i][1].id: i for i in range(edit.start, edit.old_stop)}
    read = list(deck.questions)[edit.start : edit.new_stop]
    for i, (topic, q) in enumerate(read, start=edit.start):
        was = again.get(q.id)
        if was is None:
            continue
        before = render_source(*old[was])
        if before != render_source(topic, q):
            # An edited note: its code blocks, unless edited too, are in its old fields.
            fields = previous.fields_of(was)
            if fields is not None:
                learn_code(before, fields)
            continue
        known.take(previous, i, was)
    return known


def known_by_source(previous: BuildState, deck: Deck) -> Known:
    """What the previous build has of every note of ``deck`` rendered from the same source."""
    before = {
        _source_key(render_source(topic, q)): i
        for i, (topic, q) in enumerate(previous.index.deck.questions)
    }
    known = Known({}, {}, {})
    for i, (topic, q) in enumerate(deck.questions):
        was = before.get(_source_key(render_source(topic, q)))
        if was is not None:
            known.take(previous, i, was)
    return known


def same_rows(known: Known, previous: BuildState, heads: Sequence[NoteHead], lock: Lock) -> None:
    """Move to ``known.same`` the notes of ``known.rows`` whose rows are the previous
    build's but for their id: the same GUID, note type, tags and mod, as well as fields."""
    for i, row in list(known.rows.items()):
        head = heads[i]
        was = previous.heads[(row - previous.first_row) // 2]
        qid = head.question_id
        if (was[0], was[1], kind_name(was), was[3]) == (
            qid,
            head.guid,
            head.kind.name,
            head.tags,
        ) and lock.notes[qid].mod == previous.lock.notes[qid].mod:
            known.same[i] = known.rows.pop(i)


def _source_key(source: Source) -> tuple[object, ...]:
    kind, topic, qid, texts, media = source
    return (kind, topic, qid, tuple(sorted(texts.items())), tuple(sorted((media or {}).items())))
