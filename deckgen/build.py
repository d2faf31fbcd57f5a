"""A source and its lock to a release: the .apkg, and the lock brought up to date."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deckgen.checker import load_deck
from deckgen.errors import DeckgenError, LockError, NoteTypeChangeError
from deckgen.fileio import write_bytes_atomically
from deckgen.lock import (
    NoteContent,
    NoteTypeState,
    Release,
    content_hash,
    format_lock,
    lock_path_for,
    plan_release,
    read_lock,
)
from deckgen.model import Deck
from deckgen.package import Progress, make_notes, note_type_state, write_package


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote, and how it compares with the previous release."""

    path: Path
    size: int
    lock_path: Path
    lock_written: bool
    deck: Deck
    release: Release


def release_time() -> int:
    """The ``mod`` for notes that changed: SOURCE_DATE_EPOCH if set, else the next second.

    The next second, not this one: Anki updates a note only when the incoming ``mod`` is
    strictly newer, and a note edited in Anki earlier in the same second would tie.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time()) + 1
    try:
        return int(value)
    except ValueError:
        raise DeckgenError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}"
        ) from None


def default_output(deck: Deck) -> Path:
    """``dist/<deck-name-slug>.apkg``."""
    return Path("dist") / f"{deck.slug}.apkg"


def build(
    source: Path,
    *,
    output: Path | None = None,
    name: str | None = None,
    lock_path: Path | None = None,
    locked: bool = False,
    allow_note_type_change: bool = False,
    now: int,
    progress: Progress | None = None,
) -> BuildResult:
    """Validate ``source``, write its .apkg and update its lock.

    With ``locked``, the lock is used as it is: any difference between it and the source is
    a :class:`LockError` and nothing is written. Nothing is written either when the source
    is invalid or when the note type's structure changed without ``allow_note_type_change``.
    ``progress(done, total)`` is called as questions are rendered.
    """
    with _cyclic_gc_paused():
        deck = load_deck(source, name=name)
        lock_path = lock_path or lock_path_for(source)
        output = output or default_output(deck)
        notes = make_notes(deck, progress=progress)
        old = read_lock(lock_path)
        retired = {q.id for _, q in deck.questions if q.retired}
        contents = [
            NoteContent(
                n.question_id, n.guid, content_hash(n.fields, n.tags), n.question_id in retired
            )
            for n in notes
        ]
        release = plan_release(old, contents, note_type_state(), now=now)
        if locked:
            _check_locked(release, lock_path, exists=old is not None)
        if old is not None and release.structure_changed and not allow_note_type_change:
            raise NoteTypeChangeError(
                _structure_message(old.note_type, release.lock.note_type, lock_path)
            )
        size = write_package(
            deck,
            notes,
            output,
            mods={qid: note.mod for qid, note in release.lock.notes.items()},
            note_type_mod=release.lock.note_type.mod,
        )
        lock_written = old != release.lock
        if lock_written:
            text = format_lock(release.lock, source_name=source.name)
            write_bytes_atomically(lock_path, text.encode())
        return BuildResult(output, size, lock_path, lock_written, deck, release)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A build allocates a few objects per line of YAML and frees almost none until it
    ends; the cyclic collector would rescan them again and again (half of the time spent
    composing a 10,000-question bank). Nothing a build makes needs it: reference counting
    frees it all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_locked(release: Release, lock_path: Path, *, exists: bool) -> None:
    if not exists:
        raise LockError(
            f"{lock_path} does not exist; run 'deckgen build' without --locked to create it"
        )
    if release.up_to_date:
        return
    details = [
        f"{label}: {', '.join(ids)}"
        for label, ids in (
            ("added", release.added),
            ("changed", release.changed),
            ("removed", release.removed),
        )
        if ids
    ]
    if release.style_changed or release.structure_changed:
        details.append("note type changed")
    raise LockError(
        f"{lock_path} is out of date ({'; '.join(details)}); "
        "run 'deckgen build' without --locked and commit the updated lock"
    )


def _structure_message(old: NoteTypeState, new: NoteTypeState, lock_path: Path) -> str:
    def describe(t: NoteTypeState) -> str:
        return f"id {t.id}, fields {list(t.fields)}, templates {list(t.templates)}"

    return (
        f"the note type changed its structure since {lock_path} was written "
        f"(was {describe(old)}; now {describe(new)}). "
        "Anki would add a copy of the note type and leave every existing note un-updated, "
        "unless users import this release with 'Merge note types'. Pass "
        "--allow-note-type-change to build it anyway, and tell users to import with that option"
    )
