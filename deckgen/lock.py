"""The lock file: what a build must keep stable from one release to the next.

Anki updates an existing note only when the incoming modification time (``mod``) is newer,
and an update replaces the note's fields and its tags, local tags included. So a note whose
source did not change must keep the ``mod`` of the release that last changed it, and a note
that changed must get a newer one. The lock records, for each question id, the GUID, the
note's kind, a hash of its source and that ``mod``; and for each note type, its structure
and a hash of its templates and CSS. It describes the source, not the libraries that render
it: another Markdown or Pygments version changes no hash. It is TOML, one line per note,
sorted by id, so it diffs well; a fast reader handles the lines deckgen writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError
from deckgen.limits import MAX_EPOCH

LOCK_VERSION = 2
MAX_MOD = MAX_EPOCH  # a mod is a SOURCE_DATE_EPOCH or the clock's seconds
# A version 1 lock hashed the rendered HTML; such a hash is kept with this prefix until the
# next build replaces it, and counts as unchanged (see migrate()).
_V1 = "v1:"


@dataclass(frozen=True)
class LockedNote:
    """What the lock keeps of one note."""

    guid: str
    kind: str
    content: str
    mod: int
    retired: bool = False


@dataclass(frozen=True)
class NoteTypeState:
    """A note type as Anki sees it: an id, a structure, a style, and its ``mod``."""

    id: int
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    style: str
    mod: int = 0

    def same_structure(self, other: NoteTypeState) -> bool:
        """Whether Anki would update ``other`` in place with this note type."""
        return (self.id, self.fields, self.templates) == (other.id, other.fields, other.templates)


@dataclass(frozen=True)
class Lock:
    """The whole lock file. ``version`` is the version the file was read as."""

    note_types: Mapping[str, NoteTypeState]
    notes: Mapping[str, LockedNote]
    removed: Mapping[str, LockedNote] = field(default_factory=dict)
    renderer: Mapping[str, str] = field(default_factory=dict, compare=False)
    version: int = field(default=LOCK_VERSION, compare=False)


@dataclass(frozen=True)
class NoteContent:
    """A note as the build renders it: enough to lock it."""

    question_id: str
    guid: str
    kind: str
    content: str
    retired: bool


@dataclass(frozen=True)
class Release:
    """How a build's notes compare with the lock, and the lock that results."""

    lock: Lock
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    kind_changed: tuple[tuple[str, str, str], ...]  # question id, old kind, new kind
    style_changed: tuple[str, ...]  # kinds whose templates or CSS changed
    structure_changed: tuple[str, ...]  # kinds whose fields or templates changed

    @property
    def up_to_date(self) -> bool:
        """Whether the build would leave the lock exactly as it was."""
        return not (
            self.added
            or self.changed
            or self.removed
            or self.kind_changed
            or self.style_changed
            or self.structure_changed
        )


def plan_release(
    old: Lock | None,
    notes: Sequence[NoteContent],
    note_types: Mapping[str, NoteTypeState],
    *,
    now: int,
    renderer: Mapping[str, str] | None = None,
) -> Release:
    """Compare rendered notes with the previous lock and work out every ``mod``: kept when a
    note's source is unchanged, else ``now`` (and always later than before). ``note_types``
    are those of the kinds the notes use."""
    old_notes: Mapping[str, LockedNote] = old.notes if old else {}
    old_removed: Mapping[str, LockedNote] = old.removed if old else {}
    locked: dict[str, LockedNote] = {}
    added: list[str] = []
    changed: list[str] = []
    kind_changed: list[tuple[str, str, str]] = []
    for note in notes:
        qid = note.question_id
        # A question that comes back after removal counts as added, with its old mod if
        # its source is what it was.
        previous = old_notes.get(qid) or old_removed.get(qid)
        if qid not in old_notes:
            added.append(qid)
        if previous is not None and previous.kind != note.kind:
            kind_changed.append((qid, previous.kind, note.kind))
        if previous is not None and _unchanged(previous, note):
            same = previous.content == note.content and previous.retired == note.retired
            locked[qid] = (
                previous if same else replace(previous, content=note.content, retired=note.retired)
            )
            continue
        if qid in old_notes:
            changed.append(qid)
        mod = now if previous is None else max(now, previous.mod + 1)
        locked[qid] = LockedNote(note.guid, note.kind, note.content, mod, note.retired)
    removed = sorted(set(old_notes) - set(locked))
    still_removed = {k: v for k, v in old_removed.items() if k not in locked}
    still_removed.update((k, old_notes[k]) for k in removed)

    old_types: Mapping[str, NoteTypeState] = old.note_types if old else {}
    types: dict[str, NoteTypeState] = {}
    style_changed: list[str] = []
    structure_changed: list[str] = []
    for kind, state in sorted(note_types.items()):
        before = old_types.get(kind)
        if before is None:
            types[kind] = replace(state, mod=now)
            continue
        if not state.same_structure(before):
            structure_changed.append(kind)
        elif state.style != before.style:
            style_changed.append(kind)
        else:
            types[kind] = replace(state, mod=before.mod)
            continue
        types[kind] = replace(state, mod=max(now, before.mod + 1))
    # A kind no note uses any more stays recorded: its users still have the note type.
    for kind, state in old_types.items():
        types.setdefault(kind, state)
    lock = Lock(
        dict(sorted(types.items())),
        dict(sorted(locked.items())),
        dict(sorted(still_removed.items())),
        dict(renderer or {}),
    )
    return Release(
        lock,
        tuple(added),
        tuple(changed),
        tuple(removed),
        tuple(kind_changed),
        tuple(style_changed),
        tuple(structure_changed),
    )


def _unchanged(previous: LockedNote, note: NoteContent) -> bool:
    if (previous.guid, previous.kind) != (note.guid, note.kind):
        return False
    return previous.content == note.content or previous.content.startswith(_V1)


def lock_path_for(source: Path) -> Path:
    """Where the lock of ``source`` lives by default: beside it, ending in ``.lock``; for a
    folder bank, ``deck.lock`` inside the folder."""
    if source.is_dir():
        return source / "deck.lock"
    return source.with_suffix(".lock")


def read_lock(path: Path) -> Lock | None:
    """Read a lock file, migrating an older version; ``None`` when there is none yet."""
    if path.is_symlink() and not path.exists():
        raise DeckgenError(
            f"lock file {path} is a link to a missing file; restore it or remove the link"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise DeckgenError(f"cannot read lock file {path}: {e}") from e
    try:
        return _parse(text)
    except (KeyError, TypeError, ValueError, AttributeError) as e:  # TOMLDecodeError too
        raise DeckgenError(
            f"{path} is not a valid deckgen lock file ({e}); restore it from version control"
        ) from e


def format_lock(lock: Lock, *, source_name: str) -> str:
    """The lock as TOML text, sorted and with one line per note."""
    lines = [
        f"# Lock file for {source_name}, written by `deckgen build`. Commit it with the source.",
        "# It keeps every unchanged note's modification time, so that importing a new release",
        "# into Anki updates only the notes that changed and keeps everyone's local tags.",
        f"version = {LOCK_VERSION}",
    ]
    if lock.renderer:
        lines += ["", "# The libraries of the last build, for information: hashes do not use them."]
        lines += ["[renderer]"]
        lines += [f"{_toml_key(k)} = {_toml_str(v)}" for k, v in sorted(lock.renderer.items())]
    for kind, t in sorted(lock.note_types.items()):
        lines += [
            "",
            f"[note-types.{_toml_key(kind)}]",
            f"id = {t.id}",
            f"fields = {_toml_list(t.fields)}",
            f"templates = {_toml_list(t.templates)}",
            f"style = {_toml_str(t.style)}",
            f"mod = {t.mod}",
        ]
    lines += ["", "[notes]", *(_note_line(q, n) for q, n in sorted(lock.notes.items()))]
    if lock.removed:
        lines += ["", "[removed]"]
        lines += [_note_line(q, n) for q, n in sorted(lock.removed.items())]
    return "\n".join(lines) + "\n"


def format_lock_again(lock: Lock, *, old: Lock, old_text: bytes, source_name: str) -> bytes | None:
    """``format_lock(lock)``, encoded, made from ``old_text``, which is ``format_lock(old)``
    encoded, by replacing the lines of the notes whose entry changed (a rebuild changes a
    few of 10,000): ``None`` unless ``lock`` differs from ``old`` in those entries only."""
    if (
        (lock.version, lock.renderer, lock.note_types, lock.removed)
        != (old.version, old.renderer, old.note_types, old.removed)
        or lock.notes.keys() != old.notes.keys()
        or not old_text.startswith(f"# Lock file for {source_name},".encode())
    ):
        return None
    olds = old.notes
    pieces: list[bytes] = []
    done = old_text.find(b"\n[notes]\n")
    if done < 0:
        return None
    start = 0
    # The entries are in the order of the lines: each one is looked for past the last.
    for qid, note in lock.notes.items():
        was = olds[qid]
        if note is was or note == was:
            continue
        line = f"\n{_note_line(qid, was)}\n".encode()
        at = old_text.find(line, done)
        if at < 0:
            return None
        pieces += (old_text[start : at + 1], _note_line(qid, note).encode())
        start = done = at + len(line) - 1
    pieces.append(old_text[start:])
    return b"".join(pieces)


def _note_line(qid: str, note: LockedNote) -> str:
    retired = ", retired = true" if note.retired else ""
    return (
        f"{_toml_key(qid)} = {{ guid = {_toml_str(note.guid)}, kind = {_toml_str(note.kind)}, "
        f"content = {_toml_str(note.content)}, mod = {note.mod}{retired} }}"
    )


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string: the same quotes and escapes. Most of a
    # lock's strings (GUIDs, hashes) need none, and are written as they are.
    return f'"{value}"' if _PLAIN_STR.fullmatch(value) else json.dumps(value)


_PLAIN_STR = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but '"' and '\\'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(map(_toml_str, values)) + "]"


# The note lines deckgen writes; anything else in a notes table goes to the TOML parser.
_NOTE_LINE = re.compile(
    r'([a-z0-9-]+) = \{ guid = "([^"\\]*)", kind = "([a-z-]+)", content = "([^"\\]*)", '
    r"mod = (\d{1,10})(, retired = true)? \}"
)
_TABLE_RE = re.compile(r"^\[(notes|removed)\]$", re.M)


def _parse(text: str) -> Lock:
    """Parse a lock. The note tables of a lock deckgen wrote are read line by line (a
    100,000-note lock in a fraction of the time a TOML parser takes); any other text falls
    back to the TOML parser, so hand edits still work."""
    import tomllib  # not imported by a build that finds its lock in the build state

    start = _TABLE_RE.search(text)
    if start is not None:
        head = tomllib.loads(text[: start.start()])
        if head.get("version") == LOCK_VERSION:
            fast = _fast_notes(text[start.start() :])
            if fast is not None:
                head.update(fast)
                return _lock(head)
    return _lock(tomllib.loads(text))


def _fast_notes(text: str) -> dict[str, dict[str, dict[str, Any]]] | None:
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    table: dict[str, dict[str, Any]] | None = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line in ("[notes]", "[removed]"):
            table = tables.setdefault(line[1:-1], {})
            continue
        match = _NOTE_LINE.fullmatch(line)
        if match is None or table is None or match.group(1) in table:
            return None
        qid, guid, kind, content, mod, retired = match.groups()
        table[qid] = {
            "guid": guid,
            "kind": kind,
            "content": content,
            "mod": int(mod),
            "retired": retired is not None,
        }
    return tables


def _lock(data: dict[str, Any]) -> Lock:
    version = data.get("version")
    if version == 1:
        return migrate(data)
    if version != LOCK_VERSION:
        raise ValueError(f"unsupported version {version!r}")
    types = _table(data, "note-types")
    return Lock(
        {kind: _note_type(_table(types, kind)) for kind in types},
        _notes(_table(data, "notes")),
        _notes(_table(data, "removed", required=False)),
        {k: _str(v) for k, v in _table(data, "renderer", required=False).items()},
    )


def migrate(data: dict[str, Any]) -> Lock:
    """A version 1 lock as version 2: every note is a basic note and keeps its ``mod``. Its
    hashes were of the rendered HTML, so they cannot be compared with source hashes: each
    note counts as unchanged until its source changes after this build."""
    basic = _note_type(_table(data, "note-type"))

    def upgrade(table: dict[str, Any]) -> dict[str, LockedNote]:
        return {
            qid: replace(note, content=_V1 + note.content)
            for qid, note in _notes(table, kind="basic").items()
        }

    return Lock(
        {"basic": basic},
        upgrade(_table(data, "notes")),
        upgrade(_table(data, "removed", required=False)),
        version=1,
    )


def _note_type(t: dict[str, Any]) -> NoteTypeState:
    return NoteTypeState(
        id=_int(t["id"], "note type id", 1, 2**63 - 1),
        fields=tuple(map(_str, _list(t["fields"]))),
        templates=tuple(map(_str, _list(t["templates"]))),
        style=_str(t["style"]),
        mod=_int(t["mod"], "mod", 0, MAX_MOD),
    )


def _notes(table: dict[str, Any], *, kind: str | None = None) -> dict[str, LockedNote]:
    notes = {}
    for qid, entry in table.items():
        if not isinstance(entry, dict):
            raise TypeError(f"note {qid!r} must be a table, not {entry!r}")
        retired = entry.get("retired", False)
        if not isinstance(retired, bool):
            raise TypeError(f"note {qid!r}: retired must be true or false, not {retired!r}")
        notes[qid] = LockedNote(
            guid=_str(entry["guid"]),
            kind=kind or _str(entry["kind"]),
            content=_str(entry["content"]),
            mod=_int(entry["mod"], f"note {qid!r}: mod", 0, MAX_MOD),
            retired=retired,
        )
    return notes


def _table(data: dict[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    value = data.get(key) if not required else data[key]
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{key!r} must be a table, not {value!r}")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {value!r}")
    return value


def _int(value: object, what: str = "value", low: int = 0, high: int = MAX_MOD) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} {value} is out of range ({low} to {high})")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value
