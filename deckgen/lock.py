"""The lock file: what a build must keep stable from one release to the next.

Anki updates an existing note only when the incoming modification time (``mod``) is newer,
and an update replaces the note's fields and its tags, local tags included. So a note whose
content did not change must keep the ``mod`` of the release that last changed it, and a note
that changed must get a newer one. The lock records, for each question id, the GUID, a hash of
the rendered content and that ``mod``; and for the note type, its structure and a hash of its
templates and CSS. It is TOML, one line per note, sorted by id, so it diffs well.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError

LOCK_VERSION = 1


@dataclass(frozen=True)
class LockedNote:
    """What the lock keeps of one note."""

    guid: str
    content: str
    mod: int
    retired: bool = False


@dataclass(frozen=True)
class NoteTypeState:
    """The note type as Anki sees it: an id, a structure, a style, and its ``mod``."""

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
    """The whole lock file."""

    note_type: NoteTypeState
    notes: Mapping[str, LockedNote]
    removed: Mapping[str, LockedNote] = field(default_factory=dict)


@dataclass(frozen=True)
class NoteContent:
    """A note as the build renders it: enough to hash and lock it."""

    question_id: str
    guid: str
    content: str
    retired: bool


@dataclass(frozen=True)
class Release:
    """How a build's notes compare with the lock, and the lock that results."""

    lock: Lock
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    style_changed: bool
    structure_changed: bool

    @property
    def up_to_date(self) -> bool:
        """Whether the build would leave the lock exactly as it was."""
        return not (
            self.added
            or self.changed
            or self.removed
            or self.style_changed
            or self.structure_changed
        )


def content_hash(fields: Sequence[str], tags: Sequence[str]) -> str:
    """A short, stable hash of what Anki stores for a note: its fields and its tags."""
    # Anki itself separates fields with \x1f; neither separator can occur in a field or tag.
    payload = "\x1f".join(fields) + "\x1e" + " ".join(tags)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def plan_release(
    old: Lock | None, notes: Sequence[NoteContent], note_type: NoteTypeState, *, now: int
) -> Release:
    """Compare rendered notes with the previous lock and work out every note's ``mod``:
    kept when its content is unchanged, else ``now`` (and always later than before)."""
    old_notes: Mapping[str, LockedNote] = old.notes if old else {}
    old_removed: Mapping[str, LockedNote] = old.removed if old else {}
    locked: dict[str, LockedNote] = {}
    added: list[str] = []
    changed: list[str] = []
    for note in notes:
        qid = note.question_id
        # A question that comes back after removal counts as added, with its old mod if
        # its content is what it was.
        previous = old_notes.get(qid) or old_removed.get(qid)
        if qid not in old_notes:
            added.append(qid)
        if previous is not None and (previous.guid, previous.content) == (note.guid, note.content):
            locked[qid] = replace(previous, retired=note.retired)
            continue
        if qid in old_notes:
            changed.append(qid)
        mod = now if previous is None else max(now, previous.mod + 1)
        locked[qid] = LockedNote(note.guid, note.content, mod, note.retired)
    removed = sorted(set(old_notes) - set(locked))
    still_removed = {k: v for k, v in old_removed.items() if k not in locked}
    still_removed.update((k, old_notes[k]) for k in removed)

    if old is None:
        note_type = replace(note_type, mod=now)
        style_changed = structure_changed = False
    else:
        structure_changed = not note_type.same_structure(old.note_type)
        style_changed = note_type.style != old.note_type.style
        changed_type = structure_changed or style_changed
        mod = max(now, old.note_type.mod + 1) if changed_type else old.note_type.mod
        note_type = replace(note_type, mod=mod)
    lock = Lock(note_type, dict(sorted(locked.items())), dict(sorted(still_removed.items())))
    return Release(
        lock, tuple(added), tuple(changed), tuple(removed), style_changed, structure_changed
    )


def lock_path_for(source: Path) -> Path:
    """Where the lock of ``source`` lives by default: beside it, ending in ``.lock``."""
    return source.with_suffix(".lock")


def read_lock(path: Path) -> Lock | None:
    """Read a lock file; ``None`` when there is none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise DeckgenError(f"cannot read lock file {path}: {e}") from e
    try:
        return _parse(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as e:
        raise DeckgenError(
            f"{path} is not a valid deckgen lock file ({e}); restore it from version control"
        ) from e


def format_lock(lock: Lock, *, source_name: str) -> str:
    """The lock as TOML text, sorted and with one line per note."""
    t = lock.note_type
    lines = [
        f"# Lock file for {source_name}, written by `deckgen build`. Commit it with the source.",
        "# It keeps every unchanged note's modification time, so that importing a new release",
        "# into Anki updates only the notes that changed and keeps everyone's local tags.",
        f"version = {LOCK_VERSION}",
        "",
        "[note-type]",
        f"id = {t.id}",
        f"fields = {_toml_list(t.fields)}",
        f"templates = {_toml_list(t.templates)}",
        f"style = {_toml_str(t.style)}",
        f"mod = {t.mod}",
        "",
        "[notes]",
        *(_note_line(qid, note) for qid, note in sorted(lock.notes.items())),
    ]
    if lock.removed:
        lines += ["", "[removed]"]
        lines += [_note_line(qid, note) for qid, note in sorted(lock.removed.items())]
    return "\n".join(lines) + "\n"


def _note_line(qid: str, note: LockedNote) -> str:
    retired = ", retired = true" if note.retired else ""
    return (
        f"{qid} = {{ guid = {_toml_str(note.guid)}, content = {_toml_str(note.content)}, "
        f"mod = {note.mod}{retired} }}"
    )


def _toml_str(value: str) -> str:
    # A JSON string is a valid TOML basic string: the same quotes and escapes.
    return json.dumps(value)


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(map(_toml_str, values)) + "]"


def _parse(data: dict[str, Any]) -> Lock:
    if data.get("version") != LOCK_VERSION:
        raise ValueError(f"unsupported version {data.get('version')!r}")
    t = data["note-type"]
    note_type = NoteTypeState(
        id=_int(t["id"]),
        fields=tuple(map(_str, t["fields"])),
        templates=tuple(map(_str, t["templates"])),
        style=_str(t["style"]),
        mod=_int(t["mod"]),
    )
    return Lock(note_type, _notes(data["notes"]), _notes(data.get("removed", {})))


def _notes(table: dict[str, Any]) -> dict[str, LockedNote]:
    return {
        qid: LockedNote(
            guid=_str(entry["guid"]),
            content=_str(entry["content"]),
            mod=_int(entry["mod"]),
            retired=bool(entry.get("retired", False)),
        )
        for qid, entry in table.items()
    }


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value
