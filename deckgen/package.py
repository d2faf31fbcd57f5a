"""A validated deck to an Anki package (.apkg); the only module that imports genanki.

What keeps a user's study progress across releases (see the README, "Updating a deck"):
every note's GUID depends only on the deck id and the question id, and each note type has a
fixed id and a frozen list of fields and templates (:mod:`deckgen.notetypes`). Anki matches
on exactly those.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from deckgen.errors import BuildError
from deckgen.lock import NoteTypeState
from deckgen.model import Deck
from deckgen.notes import CopiedNotes, RenderedNote
from deckgen.notetypes import CARD_CSS, KINDS, KINDS_BY_ID, NoteKind
from deckgen.render import Renderer
from deckgen.renderpool import available_cpus
from deckgen.statefiles import Identity, identity
from deckgen.zipwriter import DeflateChunks, write_zip

if TYPE_CHECKING:
    import genanki

# A new card's columns after its due: ivl, factor, reps, lapses, left, odue, odid, flags, data.
_NEW_CARD_TAIL = (0, 0, 0, 0, 0, 0, 0, 0, "")
_SQLITE_VERSION_OFFSET = 96
_SQLITE_VERSION = (3_045_000).to_bytes(4, "big")


# SQLite's largest page rather than its default of 4 KiB: a 10,000-note collection is
# written in less time (fewer pages to split and index), and its zip is smaller.
PAGE_SIZE = 65536


@functools.cache
def _schema() -> tuple[str, str]:
    """genanki's schema: its tables, then its indexes. The same statements, so the same
    sqlite_master text, only run in two steps."""
    from genanki.apkg_schema import APKG_SCHEMA

    tables, index, statements = APKG_SCHEMA.partition("CREATE INDEX")
    return tables, index + statements


@dataclass
class CollectionFiles:
    """What the package writer takes from the previous build's collection, and leaves for
    the next build (see :mod:`deckgen.buildstate`)."""

    previous: Path | None = None  # the previous collection: the rows of copied notes
    # The identity of the file at ``previous`` that was checked: another build may have put
    # another there since (see _previous_is_checked).
    previous_identity: Identity | None = None
    # The previous collection as it was before its notes were written (its tables, deck and
    # note types), when this build's are the same (see head_key): not made again.
    head: bytes | None = None
    keep: Path | None = None  # an empty file to write this build's collection to
    kept_head: bytes = b""  # this build's collection before its notes, once written
    kept_check: tuple[int, int] = (0, 0)  # this build's collection's size and CRC-32


def head_key(deck: Deck, kinds: Sequence[str], note_type_mods: Mapping[str, int]) -> bytes:
    """What a collection's head (all but its notes and cards) is made from, with the code
    that makes it: equal keys, equal heads. ``kinds``: those of the deck's notes, sorted."""
    made_from = (deck.id, deck.name, deck.description, kinds, sorted(note_type_mods.items()))
    return hashlib.blake2b(repr(made_from).encode(), digest_size=16).digest()


def note_type(kind: NoteKind) -> genanki.Model:
    """The Anki note type of a kind, with its fixed id."""
    import genanki

    from deckgen.render import highlight_css  # Pygments: not imported by a rebuild

    return genanki.Model(
        kind.id,
        kind.type_name,
        fields=[{"name": name} for name in kind.field_names],
        templates=[{"name": t.name, "qfmt": t.front, "afmt": t.back} for t in kind.templates],
        css=CARD_CSS + highlight_css(),
        model_type=genanki.Model.CLOZE if kind.cloze else genanki.Model.FRONT_BACK,
        sort_field_index=0,
    )


def note_type_state(kind: NoteKind) -> NoteTypeState:
    """A kind's note type as the lock records it: identity, structure, style hash."""
    return NoteTypeState(kind.id, kind.field_names, kind.template_names, kind.style_hash())


def write_package(
    deck: Deck,
    notes: Iterable[RenderedNote | CopiedNotes],
    out: Path,
    *,
    mods: Mapping[str, int],
    note_type_mods: Mapping[str, int],
    media: Mapping[str, Path] | None = None,
    chunks: DeflateChunks | None = None,
    files: CollectionFiles | None = None,
) -> int:
    """Write the .apkg of ``deck`` to ``out`` and return its size. The bytes are derived
    only from the arguments: the same deck, notes and times give the same file in any
    folder, at any time. New cards are due in the order of ``notes``, the source's, one note
    per question of ``deck``: they may be a stream, read once and never held.
    ``media`` maps each packed media file name to the file to pack. ``chunks``: the
    compressed chunks of the previous build, reused where the bytes are the same, and
    replaced by this build's (the file is the same bytes with or without them).
    ``files``: the previous build's collection, which the notes given as a row (or a run of
    rows) are copied from, and where this build's goes."""
    files = files or CollectionFiles()
    count = sum(len(topic.questions) for topic in deck.topics)
    # Note and card ids only need to be unique in the package; Anki matches notes by GUID and
    # keeps the ids of notes it already has. Deriving them from the oldest note's time keeps
    # them plausible and reproducible, and an edit (which makes one note newer) leaves every id
    # in place: the rows, hence the SQLite pages, of the notes not edited stay the same bytes.
    first_id = first_note_id(mods, note_type_mods)
    try:
        with contextlib.ExitStack() as stack:
            db_path = files.keep
            if db_path is None:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="deckgen-"))
                db_path = Path(folder) / "collection.anki2"
            if files.head is not None:
                db_path.write_bytes(files.head)
            db = sqlite3.connect(db_path)
            try:
                # A throw-away file: no journal, no waiting for the disk. (Neither changes a
                # byte of the file itself.)
                db.execute("PRAGMA journal_mode = OFF")
                db.execute("PRAGMA synchronous = OFF")
                db.execute("PRAGMA temp_store = MEMORY")  # the indexes' sorts
                # 16 pages (1 MiB): with SQLite's default, a cold build of 10,000 code-heavy
                # notes peaked 12 MB higher, for no time saved.
                db.execute("PRAGMA cache_size = 16")
                if files.head is None:
                    _write_head(db, db_path, deck, note_type_mods, files)
                if files.previous is not None:
                    db.execute("ATTACH DATABASE ? AS previous", (str(files.previous),))
                    if not _previous_is_checked(files.previous, files):
                        raise sqlite3.DatabaseError(_REPLACED)
                _write_notes_and_cards(db, notes, count, first_id, mods, deck.id)
                # The indexes last, as one sorted pass each: the tables' pages stay in one
                # contiguous run, and a changed key moves index pages only, never table pages.
                db.executescript(_index_statements(db, files))
                db.commit()
                if files.previous is not None:
                    db.execute("DETACH DATABASE previous")
            finally:
                db.close()
            return _pack(db_path, out, media or {}, chunks, files)
    except (OSError, sqlite3.Error) as e:
        raise BuildError(f"cannot write {out}: {e}") from e


def first_note_id(mods: Mapping[str, int], note_type_mods: Mapping[str, int]) -> int:
    """The id of a package's first note; the next ones follow by 2 in source order."""
    return min(mods.values(), default=max(note_type_mods.values())) * 1000


def _write_head(
    db: sqlite3.Connection,
    db_path: Path,
    deck: Deck,
    note_type_mods: Mapping[str, int],
    files: CollectionFiles,
) -> None:
    """The collection before its notes (its tables, its deck and note types), committed,
    and kept if the files ask for it: what a next build with the same deck and note types
    starts from instead (see :class:`CollectionFiles`)."""
    import genanki
    from genanki.apkg_col import APKG_COL

    description = Renderer().block(deck.description) if deck.description else ""
    package_deck = genanki.Deck(deck.id, deck.name, description=description)
    for name in sorted({q.kind for _, q in deck.questions}):
        package_deck.add_model(note_type(KINDS[name]))
    db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    db.executescript(_schema()[0])
    db.executescript(APKG_COL)
    # genanki writes the deck and the note types; the notes and their cards are inserted in
    # bulk with the same columns genanki's Note.write_to_db uses.
    _write_deck_and_types(db, package_deck, note_type_mods)
    db.commit()  # the file is now the head, whichever way it came
    if files.keep is not None:
        files.kept_head = db_path.read_bytes()


def _index_statements(db: sqlite3.Connection, files: CollectionFiles) -> str:
    """genanki's statements for the indexes: as the previous collection (made by the same
    code, its head taken) recorded them, else from genanki, which is then imported."""
    if files.head is None or files.previous is None:
        return _schema()[1]
    found = db.execute(
        "SELECT sql FROM previous.sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "ORDER BY rowid"
    )
    return "".join(f"{sql};\n" for (sql,) in found)


def _pack(
    db_path: Path,
    out: Path,
    media: Mapping[str, Path],
    chunks: DeflateChunks | None,
    files: CollectionFiles,
) -> int:
    """The collection and the media files into the zip at ``out``; its size. The zip's
    size and CRC-32 of the collection are the files' ``kept_check``."""
    with db_path.open("r+b") as db_file:
        # The header records which SQLite library last wrote the file; fix it so that
        # machines with another SQLite build produce the same bytes.
        db_file.seek(_SQLITE_VERSION_OFFSET)
        db_file.write(_SQLITE_VERSION)
    # Anki's media map: zip entry "0" is the first file, under its packed name, and so on.
    names = sorted(media)
    entries: dict[str, bytes | Path] = {"collection.anki2": db_path}
    entries.update((str(i), media[name]) for i, name in enumerate(names))
    entries["media"] = json.dumps(dict(enumerate(names))).encode()
    # The previous collection is the one its chunks were made from (the build state
    # checked it): a chunk the same as there is not hashed again.
    with contextlib.ExitStack() as stack:
        previous = None
        if files.previous is not None:
            was = stack.enter_context(files.previous.open("rb"))
            if _previous_is_checked(was, files):
                previous = {"collection.anki2": was}
        files.kept_check = _zip(out, entries, chunks, previous)["collection.anki2"]
    return out.stat().st_size


def _write_notes_and_cards(
    db: sqlite3.Connection,
    notes: Iterable[RenderedNote | CopiedNotes],
    count: int,
    first_id: int,
    mods: Mapping[str, int],
    deck_id: int,
) -> None:
    """The notes, each as a row made here or copied from the previous collection, then
    their cards. A copied row is the same bytes as one made from the same values: the
    tables' pages are the same whichever way each row came."""
    cards: list[_Cards] = []
    place = 0  # of the next note, in the source
    before = db.total_changes

    def made(group: Iterable[RenderedNote | CopiedNotes]) -> Iterator[tuple[object, ...]]:
        """Each note's row, or what its row copied from ``previous`` needs."""
        nonlocal place
        for n in group:
            assert isinstance(n, RenderedNote)
            nid = first_id + 2 * place
            place += 1
            mod = mods[n.question_id]
            cards.append((nid, mod, n.ordinals))
            tags = f" {' '.join(n.tags)} "
            if n.row is not None:
                yield (nid, n.guid, n.kind.id, mod, tags, n.row)
            else:
                yield (nid, n.guid, n.kind.id, mod, tags, "\x1f".join(n.fields), n.fields[0])

    for how, group in itertools.groupby(notes, key=_how):
        if how == "run":
            for copied in group:
                assert isinstance(copied, CopiedNotes)
                nid = first_id + 2 * place
                last = copied.row + 2 * (copied.count - 1)
                db.execute(_COPY_NOTES, (nid - copied.row, copied.row, last))
                cards.append((nid, place, copied))
                place += copied.count
        else:
            db.executemany(_COPY_FIELDS if how == "copy" else _INSERT_NOTE, made(group))
    if place != count:
        raise ValueError(f"{place} notes for the deck's {count} questions")
    if db.total_changes - before != count:  # a copied row was not found
        raise sqlite3.DatabaseError(_NOT_THE_LAST_COLLECTION)
    # Card ids follow the note ids' range; new cards are due in source order, so Anki
    # shows them as the bank lists them (position 1 is the first note).
    card_ids = itertools.count(first_id + 2 * count)

    def new_cards(entries: Iterable[_Cards]) -> Iterator[tuple[object, ...]]:
        for nid, mod, ordinals in entries:
            assert not isinstance(ordinals, CopiedNotes)
            position = (nid - first_id) // 2 + 1
            for ordinal in ordinals:
                yield (
                    next(card_ids),
                    nid,
                    deck_id,
                    ordinal,
                    mod,
                    -1,
                    0,
                    0,
                    position,
                    *_NEW_CARD_TAIL,
                )

    for is_run, entries in itertools.groupby(cards, key=lambda c: isinstance(c[2], CopiedNotes)):
        if not is_run:
            db.executemany(f"INSERT INTO cards VALUES({_params(18)})", new_cards(entries))
            continue
        for nid, first_place, run in entries:
            assert isinstance(run, CopiedNotes)
            last = run.row + 2 * (run.count - 1)
            old_card, old_due, found = db.execute(_RUN_CARDS, (run.row, last)).fetchone()
            if found != run.cards:
                raise sqlite3.DatabaseError(_NOT_THE_LAST_COLLECTION)
            first_card = next(card_ids)
            shifts = (first_card - old_card, nid - run.row, first_place + 1 - old_due)
            db.execute(_COPY_CARDS, (*shifts, run.row, last))
            card_ids = itertools.count(first_card + run.cards)


def _previous_is_checked(opened: Path | BinaryIO, files: CollectionFiles) -> bool:
    """Whether ``opened`` (a path that was opened just before, or the file it gave) is the
    collection file the build state checked, not one another build has put there since."""
    if files.previous_identity is None:
        return True  # nothing to compare with: a caller that made the file itself
    info = os.stat(opened) if isinstance(opened, Path) else os.fstat(opened.fileno())
    return identity(info) == files.previous_identity


_REPLACED = (
    "the collection kept by the last build was replaced while this build read it "
    "(by another build of the same bank?); build again"
)
_NOT_THE_LAST_COLLECTION = (
    "the collection kept by the last build is not the one it describes; "
    "build with --no-cache, or remove the cache folder"
)
# What the cards need of a note, kept as the notes stream past: its id, mod and ordinals;
# or of a run of copied notes: its first note's id and place, and the run.
_Cards = tuple[int, int, tuple[int, ...] | CopiedNotes]


def _how(note: RenderedNote | CopiedNotes) -> str:
    if isinstance(note, CopiedNotes):
        return "run"
    return "new" if note.row is None else "copy"


def _write_deck_and_types(
    db: sqlite3.Connection, package_deck: genanki.Deck, note_type_mods: Mapping[str, int]
) -> None:
    """genanki writes the deck and the note types into the col row; each note type then
    gets the ``mod`` the lock gave it, so an unchanged type is not re-imported as newer."""
    package_deck.write_to_db(db.cursor(), max(note_type_mods.values()), itertools.count())
    (models_json,) = db.execute("SELECT models FROM col").fetchone()
    models = json.loads(models_json)
    for model in models.values():
        model["mod"] = note_type_mods[KINDS_BY_ID[int(model["id"])].name]
    db.execute("UPDATE col SET models = ?", (json.dumps(models),))


# The columns genanki's Note.write_to_db writes. A note's fields copied from a row of the
# previous collection; a run of notes, and then its cards, copied whole, moved by a shift of
# their ids (and their cards' due positions).
_INSERT_NOTE = "INSERT INTO notes VALUES(?, ?, ?, ?, -1, ?, ?, ?, 0, 0, '')"
_COPY_FIELDS = (
    "INSERT INTO notes SELECT ?, ?, ?, ?, -1, ?, flds, sfld, 0, 0, '' "
    "FROM previous.notes WHERE id = ?"
)
_COPY_NOTES = (
    "INSERT INTO notes SELECT id + ?, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data "
    "FROM previous.notes WHERE id BETWEEN ? AND ? ORDER BY id"
)
_RUN_CARDS = "SELECT min(id), min(due), count(*) FROM previous.cards WHERE nid BETWEEN ? AND ?"
_COPY_CARDS = (
    "INSERT INTO cards SELECT id + ?, nid + ?, did, ord, mod, usn, type, queue, due + ?, "
    "ivl, factor, reps, lapses, left, odue, odid, flags, data "
    "FROM previous.cards WHERE nid BETWEEN ? AND ? ORDER BY id"
)


def _params(count: int) -> str:
    return ",".join("?" * count)


def _zip(
    path: Path,
    entries: Mapping[str, bytes | Path],
    chunks: DeflateChunks | None,
    previous: Mapping[str, BinaryIO] | None = None,
) -> dict[str, tuple[int, int]]:
    """The package's zip: fixed times and permissions, chunks compressed on every CPU."""
    return write_zip(path, entries, chunks=chunks, threads=available_cpus(), previous=previous)
