"""Release notes: what changed between two releases of a deck, as Markdown.

Either side is an .apkg (a published release) or a source file (rendered as a build would).
Notes are matched by GUID, as Anki matches them on import.
"""

from __future__ import annotations

import hashlib
import html
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from deckgen.apkg import ZIP_MAGIC, field, read_collection
from deckgen.checker import load_deck
from deckgen.errors import DeckgenError, shown_path
from deckgen.lock import NoteTypeState
from deckgen.model import RETIRED_TAG, deck_slug
from deckgen.notes import make_notes
from deckgen.notetypes import KINDS, KINDS_BY_ID
from deckgen.package import note_type
from deckgen.source import open_regular_file

_TAG_RE = re.compile(r"<[^>]+>")
_CODE_RE = re.compile(r"<code>(.*?)</code>", re.DOTALL)
_MAX_TITLE_SOURCE = 20_000
_MAX_TITLE = 120  # characters of a title in the release notes
_SETUP_RE = re.compile(r"(?:from |import |\w+ = FastAPI\(\)$)")
_BLOCK_RE = re.compile(r"<pre\b.*?(?:</pre>|$)", re.DOTALL)
_CLOZE_RE = re.compile(r"\{\{c\d+::(.*?)(?:::[^{}]*?)?\}\}", re.DOTALL)


@dataclass(frozen=True)
class NoteView:
    """One note as a release holds it."""

    question_id: str
    fields: Mapping[str, str]
    tags: frozenset[str]
    retired: bool

    @property
    def title(self) -> str:
        """The note's first field as one short line of Markdown: code spans kept, code
        blocks left out (their first line stands in when there is nothing else), cloze
        deletions shown as their answers, other HTML shown as text."""
        # A huge field (from a hostile package) is cut first, so the expressions stay cheap.
        first = next(iter(self.fields.values()), "")[:_MAX_TITLE_SOURCE]
        blocks = _BLOCK_RE.findall(first)
        prose = _CLOZE_RE.sub(r"\1", _BLOCK_RE.sub(" ", first))
        parts = _CODE_RE.split(prose)
        # re.split puts the captured code-span contents at the odd indices.
        text = " ".join(
            "".join(
                f"`{html.unescape(part)}`"
                if i % 2
                else html.escape(html.unescape(_TAG_RE.sub("", part)), quote=False)
                for i, part in enumerate(parts)
            ).split()
        )
        if not text and blocks:
            text = f"`{_telling_line(blocks[0])}`"
        if len(text) > _MAX_TITLE:
            text = text[: _MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
        return text


def _telling_line(block: str) -> str:
    """The line of a code block that says most about its card: the one with a cloze
    deletion, else the first that is not an import or ``app = FastAPI()``-like set-up."""
    lines = [line.strip() for line in html.unescape(_TAG_RE.sub("", block)).splitlines()]
    lines = [line for line in lines if line]
    marked = [line for line in lines if _CLOZE_RE.search(line)]
    plain = [line for line in lines if not _SETUP_RE.match(line)]
    return _CLOZE_RE.sub(r"\1", (marked or plain or lines or [""])[0])


@dataclass(frozen=True)
class Snapshot:
    """A release: its deck name, notes by GUID and note types by kind."""

    deck_name: str
    notes: Mapping[str, NoteView]
    note_types: Mapping[str, NoteTypeState]


def load_snapshot(path: Path) -> Snapshot:
    """Read an .apkg, or render a source file, into a snapshot."""
    name = shown_path(path)
    with open_regular_file(path, name=name) as file:
        if file.read(4) in ZIP_MAGIC:
            file.seek(0)
            return _package_snapshot(file, name)
    if path.suffix.lower() in (".apkg", ".colpkg"):
        raise DeckgenError(f"{name} is not an Anki package: it is not a zip archive")
    deck = load_deck(path, name=name)
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


def _package_snapshot(file: BinaryIO, name: str) -> Snapshot:
    with tempfile.TemporaryDirectory(prefix="deckgen-") as tmp:
        collection = read_collection(
            file, name=name, folder=Path(tmp), note_type_ids=tuple(KINDS_BY_ID)
        )
    models = collection.models if isinstance(collection.models, dict) else {}
    types: dict[str, NoteTypeState] = {}
    field_names: dict[int, list[str]] = {}
    for kind_id, kind in KINDS_BY_ID.items():
        model = models.get(str(kind_id))
        if model is None:
            continue
        what = f"the deckgen note type {kind.type_name!r}"
        field_names[kind_id] = [
            field(f, "name", str, name=name, what=f"a field of {what}")
            for f in field(model, "flds", list, name=name, what=what)
        ]
        templates = [
            (
                field(t, "name", str, name=name, what=f"a template of {what}"),
                field(t, "qfmt", str, name=name, what=f"a template of {what}"),
                field(t, "afmt", str, name=name, what=f"a template of {what}"),
            )
            for t in field(model, "tmpls", list, name=name, what=what)
        ]
        types[kind.name] = NoteTypeState(
            kind_id,
            tuple(field_names[kind_id]),
            tuple(t[0] for t in templates),
            style_hash([t[1:] for t in templates], field(model, "css", str, name=name, what=what)),
            field(model, "mod", int, name=name, what=what) if "mod" in model else 0,
        )
    if not types:
        raise DeckgenError(f"{name} was not built by deckgen: it has no deckgen note type")
    if not isinstance(collection.decks, dict):
        raise DeckgenError(f"{name}: its decks are not a JSON object")
    names = [
        field(d, "name", str, name=name, what="a deck")
        for d in collection.decks.values()
        if not isinstance(d, dict) or d.get("id") != 1
    ]
    deck_name = names[0] if names else name
    retired_tag = f"{deck_slug(deck_name)}::{RETIRED_TAG}"
    notes = {}
    for guid, mid, flds, tags in collection.notes:
        if mid not in field_names:
            continue
        fields = dict(zip(field_names[mid], flds.split("\x1f"), strict=False))
        tag_set = frozenset(tags.split())
        notes[guid] = NoteView(fields.get("ID", guid), fields, tag_set, retired_tag in tag_set)
    return Snapshot(deck_name, notes, types)
