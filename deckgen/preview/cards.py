"""A deck's cards as the preview shows them: the notes a build renders (the same field HTML
that goes into the package), each card's sides rendered from its note type's templates as
Anki renders them, then as Anki's reviewer shows them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from deckgen.model import Deck
from deckgen.notes import RenderedNote, make_notes
from deckgen.notetypes import NoteKind
from deckgen.preview.cloze import strip_html
from deckgen.preview.reviewer import TypeField, shown_sides
from deckgen.preview.template import CardSides, TemplateError, card_fields, render_card

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class PreviewCard:
    """One card: where it comes from, and its two sides as Anki's backend renders them and
    as the reviewer shows them."""

    question_id: str
    topic: int  # index in the deck's topics
    line: int
    kind: str
    ordinal: int
    card_name: str
    tags: tuple[str, ...]
    retired: bool
    sides: CardSides | None  # None when the card cannot be rendered (see error)
    front: str
    back: str
    error: str | None = None

    def search_text(self) -> str:
        """The card's words, for the page's search."""
        if self.sides is None:
            return ""
        text = strip_html(f"{self.sides.question} {self.sides.answer}")
        return _SPACES.sub(" ", text).strip()

    def as_json(self) -> dict[str, Any]:
        """The card as the page's script reads it."""
        data: dict[str, Any] = {
            "id": self.question_id,
            "topic": self.topic,
            "line": self.line,
            "kind": self.kind,
            "ord": self.ordinal,
            "card": self.card_name,
            "tags": list(self.tags),
            "front": self.front,
            "back": self.back,
            "text": self.search_text(),
        }
        if self.retired:
            data["retired"] = True
        if self.error is not None:
            data["error"] = self.error
        return data


@cache
def note_type_json(kind: NoteKind) -> dict[str, Any]:
    """The note type of a kind as the package holds it (genanki's JSON, with the field
    fonts genanki adds)."""
    from deckgen.package import note_type  # genanki: only when a preview is made

    model = note_type(kind)
    result: dict[str, Any] = model.to_json(0, 0)
    return result


def card_css(kind: NoteKind) -> str:
    """The CSS of a kind's note type, as the package holds it."""
    return str(note_type_json(kind)["css"])


def _type_fields(kind: NoteKind, note: RenderedNote) -> dict[str, TypeField]:
    fonts = {f["name"]: (str(f["font"]), int(f["size"])) for f in note_type_json(kind)["flds"]}
    return {
        name: TypeField(value, *fonts[name])
        for name, value in zip(kind.field_names, note.fields, strict=True)
    }


def render_note(
    note: RenderedNote, *, deck_name: str, topic: int, line: int
) -> Iterator[PreviewCard]:
    """The cards of one note, in ordinal order."""
    kind = note.kind
    for ordinal in note.ordinals:
        template = kind.templates[0 if kind.cloze else ordinal]
        card_name = f"{template.name} {ordinal + 1}" if kind.cloze else template.name
        fields = card_fields(
            kind.field_names,
            note.fields,
            tags=note.tags,
            note_type=kind.type_name,
            deck=deck_name,
            template=template.name,
        )
        where = (note.question_id, topic, line, kind.name, ordinal, card_name)
        try:
            sides = render_card(
                template.front, template.back, fields, ordinal=ordinal, cloze=kind.cloze
            )
            sounds = {"q": sides.question_sounds, "a": sides.answer_sounds}
            front, back = shown_sides(
                sides.question,
                sides.answer,
                sounds=sounds,
                fields=_type_fields(kind, note),
                ordinal=ordinal,
            )
        except (TemplateError, ValueError) as e:
            yield PreviewCard(*where, note.tags, note.retired, None, "", "", str(e))
            continue
        yield PreviewCard(*where, note.tags, note.retired, sides, front, back)


def preview_cards(
    deck: Deck, *, known: Sequence[tuple[str, ...]] | None = None
) -> list[PreviewCard]:
    """Every card of ``deck``, in the order of its notes, as the package would hold them
    (``known``: the fields of every note, when a build has just rendered them)."""
    topics = {id(topic): index for index, topic in enumerate(deck.topics)}
    pairs = list(deck.questions)
    cards: list[PreviewCard] = []
    for (topic, question), note in zip(pairs, make_notes(deck, known=known), strict=True):
        cards += render_note(note, deck_name=deck.name, topic=topics[id(topic)], line=question.line)
    return cards


def media_files(deck: Deck) -> dict[str, Path]:
    """The media the deck's cards show, by packed name."""
    return {f.name: f.path for _, q in deck.questions for f in q.media.values()}


def kinds_used(cards: Iterable[PreviewCard]) -> list[str]:
    """The kinds of the cards, sorted."""
    return sorted({card.kind for card in cards})
