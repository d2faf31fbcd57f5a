"""Reading an Anki package (.apkg) that may be corrupt or hostile, for ``deckgen diff``.

Nothing in a package is trusted: the zip's central directory is sized before zipfile reads
it, the collection is refused before inflating when its declared size or compression ratio is
out of bounds and is streamed to disk with a cap, SQLite reads it read-only with bounded
values and a bounded number of steps, and every JSON value is checked for its type.
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, TypeVar

from deckgen.errors import DeckgenError, quote
from deckgen.limits import (
    MAX_COLLECTION_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_PACKAGE_ENTRIES,
    MAX_PACKAGE_NOTES,
    MAX_SQLITE_STEPS,
    MAX_SQLITE_VALUE_BYTES,
    MAX_ZIP_DIRECTORY_BYTES,
    RATIO_MIN_BYTES,
)

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or an empty archive
_SQLITE_MAGIC = b"SQLite format 3\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_NEWER_FORMAT = (
    "an Anki 2.1.50+ package (zstd-compressed collection.anki21b), which deckgen diff cannot "
    "read; export it again from Anki with 'Support older Anki versions' checked"
)
_STEPS_PER_CHECK = 10_000  # SQLite steps between two calls of the progress handler
_T = TypeVar("_T")


class PackageError(DeckgenError):
    """A package that deckgen diff cannot read."""


@dataclass(frozen=True)
class Collection:
    """What ``deckgen diff`` reads from a package's collection."""

    models: object  # the note types, as parsed JSON: check before use
    decks: object
    notes: list[tuple[str, int, str, str]]  # guid, note type id, fields joined by \x1f, tags


def read_collection(
    file: BinaryIO, *, name: str, folder: Path, note_type_ids: Sequence[int]
) -> Collection:
    """The note types, decks and notes (GUID, note type id, fields, tags) of the note types
    ``note_type_ids`` in the package open as ``file``; ``folder`` is a private temporary
    folder for the collection."""
    path = folder / "collection.db"
    _extract_collection(file, name=name, dest=path)
    with _connect(path, name=name) as db:
        try:
            tables = dict(
                db.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN "
                    "('col', 'notes')"
                ).fetchall()
            )
            if set(tables) != {"col", "notes"} or any(
                not isinstance(sql, str) or sql.lstrip().upper().startswith("CREATE VIRTUAL")
                for sql in tables.values()
            ):
                raise PackageError(f"{name}: its collection has no 'col' and 'notes' tables")
            row = db.execute("SELECT models, decks FROM col LIMIT 1").fetchone()
            marks = ",".join("?" * len(note_type_ids))
            notes = db.execute(
                f"SELECT guid, mid, flds, tags FROM notes WHERE mid IN ({marks}) LIMIT ?",
                (*note_type_ids, MAX_PACKAGE_NOTES + 1),
            ).fetchall()
        except sqlite3.Error as e:
            raise PackageError(f"{name}: cannot read its collection: {e}") from e
    if row is None:
        raise PackageError(f"{name}: its collection has no 'col' row")
    if len(notes) > MAX_PACKAGE_NOTES:
        raise PackageError(f"{name} has more than {MAX_PACKAGE_NOTES:,} notes (the limit)")
    for note in notes:
        if not all(isinstance(value, str) for i, value in enumerate(note) if i != 1):
            raise PackageError(
                f"{name}: note {quote(str(note[0]))} holds binary or numeric data where its "
                "GUID, fields and tags should be text"
            )
    models, decks = row
    return Collection(
        _json(models, name=name, what="note types"), _json(decks, name=name, what="decks"), notes
    )


def field(value: object, key: str, kind: type[_T], *, name: str, what: str) -> _T:
    """``value[key]``, which must be a ``kind``: JSON from a package is checked before use."""
    item = value.get(key) if isinstance(value, dict) else None
    if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
        raise PackageError(f"{name}: {what} has no {key!r} of the right type")
    return item


def _extract_collection(file: BinaryIO, *, name: str, dest: Path) -> None:
    _check_directory(file, name=name)
    try:
        with zipfile.ZipFile(file) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if "collection.anki21b" in infos or _meta_version(archive, infos) >= 3:
                raise PackageError(f"{name} is {_NEWER_FORMAT}")
            # Anki's exports for older versions put the real collection in .anki21, beside a
            # .anki2 that only says to update Anki; deckgen writes .anki2 alone.
            info = infos.get("collection.anki21") or infos.get("collection.anki2")
            if info is None:
                raise PackageError(f"{name} is not an Anki package: it holds no collection")
            _check_entry(info, name=name)
            with archive.open(info) as entry, dest.open("wb") as out:
                _copy_capped(entry, out, name=name)
    except PackageError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
        raise PackageError(f"{name} is not a readable Anki package: {e}") from e
    except (NotImplementedError, RuntimeError) as e:  # unknown compression, encryption
        raise PackageError(f"{name}: cannot read its collection: {e}") from e
    with dest.open("rb") as db:
        head = db.read(len(_SQLITE_MAGIC))
    if head.startswith(_ZSTD_MAGIC):
        raise PackageError(f"{name} is {_NEWER_FORMAT}")
    if head != _SQLITE_MAGIC:
        raise PackageError(f"{name}: its collection is not an SQLite database")


def _check_directory(file: BinaryIO, *, name: str) -> None:
    """Refuse an archive whose central directory would take too much memory to read; zipfile
    reads all of it at once, whatever it holds."""
    entries, size = _directory_size(file)
    if entries > MAX_PACKAGE_ENTRIES or size > MAX_ZIP_DIRECTORY_BYTES:
        raise PackageError(
            f"{name} holds {entries:,} files in a directory of {size:,} bytes, more than the "
            f"limit of {MAX_PACKAGE_ENTRIES:,} files"
        )


def _directory_size(file: BinaryIO) -> tuple[int, int]:
    """The number of entries and the size of a zip's central directory, from its end record
    (or its zip64 end record); (0, 0) when there is none, for zipfile to refuse."""
    end = file.seek(0, 2)
    start = max(0, end - (22 + 0xFFFF))  # the end record, then a comment of up to 64 KiB
    file.seek(start)
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return 0, 0
    entries = int.from_bytes(tail[at + 10 : at + 12], "little")
    size = int.from_bytes(tail[at + 12 : at + 16], "little")
    locator = tail[at - 20 : at] if at >= 20 else b""
    if locator.startswith(b"PK\x06\x07"):
        file.seek(int.from_bytes(locator[8:16], "little"))
        record = file.read(56)
        if record.startswith(b"PK\x06\x06") and len(record) == 56:
            entries = int.from_bytes(record[32:40], "little")
            size = int.from_bytes(record[40:48], "little")
    file.seek(0)
    return entries, size


def _meta_version(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> int:
    """The package version in Anki's ``meta`` entry (a one-field protobuf message); 0 when
    there is none. Anki 2.1.50+ writes 3 for its zstd-compressed format."""
    info = infos.get("meta")
    if info is None or info.file_size > 64 or info.flag_bits & 1:
        return 0
    data = archive.read(info)
    if len(data) < 2 or data[0] != 0x08:  # field 1, varint
        return 0
    return data[1] & 0x7F


def _check_entry(info: zipfile.ZipInfo, *, name: str) -> None:
    """Refuse the collection's entry before inflating a byte of it."""
    if info.flag_bits & 0x1:
        raise PackageError(f"{name}: its collection is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        method = "zstd" if info.compress_type == 93 else f"method {info.compress_type}"
        raise PackageError(
            f"{name}: its collection is compressed with {method}, which deckgen diff cannot "
            f"read; {name} may be {_NEWER_FORMAT}"
        )
    if info.file_size > MAX_COLLECTION_BYTES:
        raise PackageError(
            f"{name}: its collection is {info.file_size:,} bytes, more than the limit of "
            f"{MAX_COLLECTION_BYTES:,}"
        )
    if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
        1, info.compress_size
    ):
        raise PackageError(
            f"{name}: its collection would inflate {info.compress_size:,} bytes into "
            f"{info.file_size:,}, more than {MAX_COMPRESSION_RATIO} times (a zip bomb?)"
        )


def _copy_capped(entry: IO[bytes], out: IO[bytes], *, name: str) -> None:
    # zipfile stops at the declared size, which was checked; the cap holds whatever it does.
    copied = 0
    while chunk := entry.read(1024 * 1024):
        copied += len(chunk)
        if copied > MAX_COLLECTION_BYTES:
            raise PackageError(
                f"{name}: its collection is more than the limit of {MAX_COLLECTION_BYTES:,} bytes"
            )
        out.write(chunk)


@contextmanager
def _connect(path: Path, *, name: str) -> Iterator[sqlite3.Connection]:
    """A read-only connection that refuses huge values and stops a query that runs away."""
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as e:
        raise PackageError(f"{name}: cannot open its collection: {e}") from e
    with closing(db):
        db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_SQLITE_VALUE_BYTES)
        checks = 0

        def progress() -> int:
            nonlocal checks
            checks += 1
            # Non-zero interrupts the query.
            return int(checks * _STEPS_PER_CHECK > MAX_SQLITE_STEPS)

        db.set_progress_handler(progress, _STEPS_PER_CHECK)
        try:
            db.execute("PRAGMA trusted_schema = OFF")
            db.execute("PRAGMA query_only = ON")
        except sqlite3.Error as e:
            raise PackageError(f"{name}: cannot read its collection: {e}") from e
        yield db


def _json(value: object, *, name: str, what: str) -> object:
    if not isinstance(value, str):
        raise PackageError(f"{name}: its {what} are not text")
    try:
        return json.loads(value)
    except (ValueError, RecursionError) as e:
        raise PackageError(f"{name}: its {what} are not valid JSON") from e
