"""Release notes: what changed between two releases of a deck, as Markdown.

Either side is an .apkg (a published release) or a source, a file or a folder bank (rendered
as a build would). Notes are matched by GUID, as Anki matches them on import.
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

# A tag never holds "<": each match stops at the next one, so a hostile field of "<<<..."
# costs linear time, as every step of a title does (code spans and clozes are split apart
# with str methods for the same reason).
_TAG_RE = re.compile(r"<[^<>]*>")
_CLOZE_OPEN_RE = re.compile(r"\{\{c\d+::")
# What a title is made from: a huge field (from a hostile package) is cut first; the title
# is then cut to one readable line.
_MAX_TITLE_SOURCE = 20_000
_MAX_TITLE_CHARS = 100


@dataclass(frozen=True)
class NoteView:
    """One note as a release holds it."""

    question_id: str
    fields: Mapping[str, str]
    tags: frozenset[str]
    retired: bool

    @property
    def title(self) -> str:
        """The question as one short line of Markdown: code spans kept, clozes shown as their
        answers, code blocks left out (or, when the question is only code, its cloze line)."""
        first = next(iter(self.fields.values()), "")
        prose, code = _split_code_blocks(first[:_MAX_TITLE_SOURCE])
        pieces = _uncloze(prose).split("<code>")
        text = _plain(pieces[0])
        for piece in pieces[1:]:
            span, closed, rest = piece.partition("</code>")
            text += f"`{html.unescape(span)}`{_plain(rest)}" if closed else _plain(piece)
        if not text.strip() and code:
            text = f"`{_code_line(code)}`"
        return _shorten(" ".join(text.split())).removesuffix(":")


def _plain(field_html: str) -> str:
    """HTML outside code spans as Markdown text: tags dropped, the rest shown as written."""
    return html.escape(html.unescape(_TAG_RE.sub("", field_html)), quote=False)


def _split_code_blocks(field_html: str) -> tuple[str, str]:
    """The field without its code blocks (``<pre>``), and the first block's plain text."""
    prose: list[str] = []
    first_block = ""
    position = 0
    while (start := field_html.find("<pre", position)) != -1:
        prose.append(field_html[position:start])
        end = field_html.find("</pre>", start)
        end = len(field_html) if end == -1 else end + len("</pre>")
        if not first_block:
            first_block = html.unescape(_TAG_RE.sub("", field_html[start:end]))
        position = end
    prose.append(field_html[position:])
    return " ".join(prose), first_block


def _uncloze(text: str) -> str:
    """``{{c1::answer::hint}}`` -> ``answer``, as the card shows it once answered."""
    pieces = _CLOZE_OPEN_RE.split(text)
    result = pieces[0]
    for piece in pieces[1:]:
        inside, closed, rest = piece.partition("}}")
        # As Anki reads a cloze, its answer ends at the first "::" (a hint follows).
        result += inside.partition("::")[0] + rest if closed else piece
    return result


def _code_line(code: str) -> str:
    """The line of a code block that holds its first cloze, else its first line."""
    lines = [line.strip() for line in code.splitlines() if line.strip()]
    marked = [line for line in lines if _CLOZE_OPEN_RE.search(line)]
    return _uncloze((marked or lines or [""])[0])


def _shorten(title: str) -> str:
    """``title`` cut to _MAX_TITLE_CHARS at a space outside code spans, with an ellipsis."""
    if len(title) <= _MAX_TITLE_CHARS:
        return title
    limit = _MAX_TITLE_CHARS - 2
    in_code = False
    cut = -1
    for i, char in enumerate(title[: limit + 1]):
        if char == "`":
            in_code = not in_code
        elif char == " " and not in_code:
            cut = i
    if cut > 0:
        return title[:cut].rstrip(",.;:") + " …"
    # No space outside code before the limit: one long code span, cut inside it.
    head = title[: limit - 1]
    return head + ("…`" if head.count("`") % 2 else "…")


@dataclass(frozen=True)
class Snapshot:
    """A release: its deck name, notes by GUID and note types by kind."""

    deck_name: str
    notes: Mapping[str, NoteView]
    note_types: Mapping[str, NoteTypeState]


def load_snapshot(path: Path) -> Snapshot:
    """Read an .apkg, or render a source (a file or a folder bank), into a snapshot."""
    name = shown_path(path)
    if not path.is_dir():
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
