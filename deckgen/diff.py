"""Release notes: what changed between two releases of a deck, as Markdown.

Either side is an .apkg (a published release) or a source file (rendered as a build would).
Notes are matched by GUID, as Anki matches them on import.
"""

from __future__ import annotations

import hashlib
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
from deckgen.notes import make_notes
from deckgen.notetypes import KINDS, KINDS_BY_ID
from deckgen.package import note_type

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
        first = next(iter(self.fields.values()), "")
        parts = _CODE_RE.split(first)
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
    """A release: its deck name, notes by GUID and note types by kind."""

    deck_name: str
    notes: Mapping[str, NoteView]
    note_types: Mapping[str, NoteTypeState]


def load_snapshot(path: Path) -> Snapshot:
    """Read an .apkg, or render a source file, into a snapshot."""
    if zipfile.is_zipfile(path):
        return _package_snapshot(path)
    deck = load_deck(path)
    retired_tag = f"{deck.slug}::{RETIRED_TAG}"
    notes = {
        note.guid: NoteView(
            note.question_id,
            dict(zip(note.kind.field_names, note.fields, strict=True)),
            frozenset(note.tags),
            retired_tag in note.tags,
        )
        for note in make_notes(deck)
    }
    types = {}
    for kind in sorted({q.kind for _, q in deck.questions}):
        model = note_type(KINDS[kind])
        templates = [(t["qfmt"], t["afmt"]) for t in model.templates]
        types[kind] = NoteTypeState(
            model.model_id,
            KINDS[kind].field_names,
            KINDS[kind].template_names,
            style_hash(templates, model.css),
        )
    return Snapshot(deck.name, notes, types)


def style_hash(templates: list[tuple[str, str]], css: str) -> str:
    """A short hash of a note type's templates (front, back) and CSS as a package has them."""
    parts = [part for pair in templates for part in pair] + [css]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


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
        names = dict.fromkeys([*before.fields, *note.fields])
        what = [name for name in names if before.fields.get(name) != note.fields.get(name)]
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
    lines += ["", "### Note types", ""]
    for kind in sorted(set(old.note_types) | set(new.note_types)):
        change = _note_type_change(old.note_types.get(kind), new.note_types.get(kind))
        lines.append(f"- `{kind}`: {change}")
    return "\n".join(lines) + "\n"


def _item(note: NoteView) -> str:
    return f"- `{note.question_id}`: {note.title}"


def _note_type_change(old: NoteTypeState | None, new: NoteTypeState | None) -> str:
    if old is None:
        return "New in this release."
    if new is None:
        return "No longer used by any note."
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
    models = json.loads(models_json)
    types: dict[str, NoteTypeState] = {}
    field_names: dict[int, list[str]] = {}
    for kind_id, kind in KINDS_BY_ID.items():
        model = models.get(str(kind_id))
        if model is None:
            continue
        field_names[kind_id] = [f["name"] for f in model["flds"]]
        templates = model["tmpls"]
        types[kind.name] = NoteTypeState(
            kind_id,
            tuple(field_names[kind_id]),
            tuple(t["name"] for t in templates),
            style_hash([(t["qfmt"], t["afmt"]) for t in templates], model["css"]),
            int(model.get("mod", 0)),
        )
    if not types:
        raise DeckgenError(f"{path} was not built by deckgen: it has no deckgen note type")
    names = [d["name"] for d in json.loads(decks_json).values() if d.get("id") != 1]
    deck_name = names[0] if names else path.stem
    retired_tag = f"{deck_slug(deck_name)}::{RETIRED_TAG}"
    notes = {}
    for guid, mid, flds, tags in rows:
        if mid not in field_names:
            continue
        fields = dict(zip(field_names[mid], flds.split("\x1f"), strict=False))
        tag_set = frozenset(tags.split())
        notes[guid] = NoteView(fields.get("ID", guid), fields, tag_set, retired_tag in tag_set)
    return Snapshot(deck_name, notes, types)
