"""Release notes: what changed between two releases of a deck, as Markdown.

Either side is an .apkg (a published release) or a source file (rendered as a build would).
Notes are matched by GUID, as Anki matches them on import.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deckgen.checker import load_deck
from deckgen.errors import DeckgenError
from deckgen.lock import NoteTypeState
from deckgen.model import RETIRED_TAG, deck_slug
from deckgen.package import FIELDS, NOTE_TYPE_ID, make_notes, note_type_state, style_hash

_TAG_RE = re.compile(r"<[^>]+>")
_CODE_RE = re.compile(r"<code>(.*?)</code>", re.DOTALL)


@dataclass(frozen=True)
class NoteView:
    """One note as a release holds it."""

    question_id: str
    fields: Mapping[str, str]
    tags: frozenset[str]
    retired: bool

    @property
    def title(self) -> str:
        """The question as one line of Markdown: code spans kept, other HTML shown as text."""
        parts = _CODE_RE.split(self.fields.get("Question", ""))
        # re.split puts the captured code-span contents at the odd indices.
        text = "".join(
            f"`{html.unescape(part)}`"
            if i % 2
            else html.escape(html.unescape(_TAG_RE.sub("", part)), quote=False)
            for i, part in enumerate(parts)
        )
        return " ".join(text.split())


@dataclass(frozen=True)
class Snapshot:
    """A release: its deck name, notes by GUID and note type."""

    deck_name: str
    notes: Mapping[str, NoteView]
    note_type: NoteTypeState


def load_snapshot(path: Path) -> Snapshot:
    """Read an .apkg, or render a source file, into a snapshot."""
    if zipfile.is_zipfile(path):
        return _package_snapshot(path)
    deck = load_deck(path)
    retired_tag = f"{deck.slug}::{RETIRED_TAG}"
    notes = {
        note.guid: NoteView(
            note.question_id,
            dict(zip(FIELDS, note.fields, strict=True)),
            frozenset(note.tags),
            retired_tag in note.tags,
        )
        for note in make_notes(deck)
    }
    return Snapshot(deck.name, notes, note_type_state())


def release_notes(old: Snapshot, new: Snapshot) -> str:
    """Markdown release notes for going from ``old`` to ``new``."""
    added = [n for guid, n in new.notes.items() if guid not in old.notes and not n.retired]
    removed = [n for guid, n in old.notes.items() if guid not in new.notes]
    retired = [
        n
        for guid, n in new.notes.items()
        if n.retired and not (guid in old.notes and old.notes[guid].retired)
    ]
    changed: list[tuple[NoteView, list[str]]] = []
    for guid, note in new.notes.items():
        before = old.notes.get(guid)
        if before is None or note.retired:
            continue
        what = [name for name in FIELDS if before.fields.get(name) != note.fields.get(name)]
        if before.tags != note.tags:
            what.append("tags")
        if what:
            changed.append((note, what))

    lines = [f"## {new.deck_name}", ""]
    lines.append(
        f"{len(added)} added, {len(changed)} changed, {len(retired)} retired, "
        f"{len(removed)} removed."
    )
    if added:
        lines += ["", "### Added", ""] + [_item(n) for n in added]
    if changed:
        lines += ["", "### Changed", ""]
        lines += [f"{_item(n)} ({', '.join(what)})" for n, what in changed]
    if retired:
        lines += [
            "",
            "### Retired",
            "",
            "These cards stay in your collection with the tag "
            f"`{deck_slug(new.deck_name)}::{RETIRED_TAG}`; search for it to suspend them.",
            "",
        ] + [_item(n) for n in retired]
    if removed:
        lines += [
            "",
            "### Removed",
            "",
            "Importing cannot delete notes: these cards stay in your collection until you "
            "delete them.",
            "",
        ] + [_item(n) for n in removed]
    lines += ["", "### Note type", "", _note_type_change(old.note_type, new.note_type)]
    return "\n".join(lines) + "\n"


def _item(note: NoteView) -> str:
    return f"- `{note.question_id}`: {note.title}"


def _note_type_change(old: NoteTypeState, new: NoteTypeState) -> str:
    if not new.same_structure(old):
        return (
            "**The note type's fields or templates changed.** Import this release with "
            '"Merge note types" checked, or Anki will add a copy of the note type and leave '
            "your existing cards un-updated."
        )
    if new.style != old.style:
        return "Templates or styling changed; Anki updates them in place on import."
    return "Unchanged."


def _package_snapshot(path: Path) -> Snapshot:
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read("collection.anki2")
    except (KeyError, zipfile.BadZipFile, OSError) as e:
        raise DeckgenError(f"{path} is not an Anki package this version can read: {e}") from e
    with tempfile.TemporaryDirectory(prefix="deckgen-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        db_path.write_bytes(data)
        db = sqlite3.connect(db_path)
        try:
            models_json, decks_json = db.execute("select models, decks from col").fetchone()
            rows = db.execute("select guid, mid, flds, tags from notes").fetchall()
        except sqlite3.Error as e:
            raise DeckgenError(f"{path}: cannot read its collection: {e}") from e
        finally:
            db.close()
    model = json.loads(models_json).get(str(NOTE_TYPE_ID))
    if model is None:
        raise DeckgenError(f"{path} was not built by deckgen: it has no deckgen note type")
    field_names = [f["name"] for f in model["flds"]]
    templates = model["tmpls"]
    note_type = NoteTypeState(
        NOTE_TYPE_ID,
        tuple(field_names),
        tuple(t["name"] for t in templates),
        style_hash([(t["qfmt"], t["afmt"]) for t in templates], model["css"]),
        int(model.get("mod", 0)),
    )
    names = [d["name"] for d in json.loads(decks_json).values() if d.get("id") != 1]
    deck_name = names[0] if names else path.stem
    retired_tag = f"{deck_slug(deck_name)}::{RETIRED_TAG}"
    notes = {}
    for guid, mid, flds, tags in rows:
        if mid != NOTE_TYPE_ID:
            continue
        fields = dict(zip(field_names, flds.split("\x1f"), strict=False))
        tag_set = frozenset(tags.split())
        notes[guid] = NoteView(fields.get("ID", guid), fields, tag_set, retired_tag in tag_set)
    return Snapshot(deck_name, notes, note_type)
