"""What Anki's reviewer does to ``card.question()`` and ``card.answer()`` before it shows
them (qt/aqt/reviewer.py, aqt/sound.py): the only differences between the HTML of a card in
the preview and the HTML Anki's backend renders.

- ``[[type:Field]]`` becomes the answer box on the front and, on the back, the expected
  answer as Anki shows it when nothing was typed: ``<code id=typeans>`` in a div with the
  field's font.
- ``[anki:play:q:N]`` and ``[anki:play:a:N]`` become play buttons; deckgen's own button,
  which plays the file from the preview's folder.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from deckgen.preview.cloze import cloze_for_typing, encode_minimal, strip_html

TYPE_ANSWER = re.compile(r"\[\[type:(.+?)\]\]")
PLAY = re.compile(r"\[anki:play:(.):(\d+)\]")
_LINE_BREAKS = re.compile(r"(?:\n|<br\s?/?>|</?div>)+", re.I)
_SOUND_TAG = re.compile(r"\[sound:[^\]]+\]")
_HR = "<hr id=answer>"  # the separator as Anki's own templates write it

# A play button: a circle with a triangle, drawn for deckgen.
_PLAY_ICON = (
    '<svg class="playImage" viewBox="0 0 64 64" aria-hidden="true">'
    '<circle cx="32" cy="32" r="28"/><path d="M25 19v26l21-13z"/></svg>'
)


@dataclass(frozen=True)
class TypeField:
    """A field a type-in card compares with, and how Anki's reviewer shows it."""

    content: str  # the note's field, as stored
    font: str
    size: int


def _expected_answer(field: str, ordinal: int, *, cloze: bool) -> str | None:
    if cloze:
        return cloze_for_typing(field, ordinal + 1) or None
    return field


def _typed_field(
    match: re.Match[str] | None, fields: Mapping[str, TypeField], ordinal: int
) -> tuple[str, TypeField] | None:
    """The expected answer and its field for the first ``[[type:...]]``; None when the
    card has none."""
    if match is None:
        return None
    name = match[1]
    cloze = name.startswith("cloze:")
    if cloze:
        name = name.split(":")[1]
    if name.startswith("nc:"):
        name = name.split(":")[1]
    field = fields.get(name)
    if field is None:
        raise ValueError(f"[[type:{match[1]}]] names no field")
    expected = _expected_answer(field.content, ordinal, cloze=cloze)
    return (expected or "", field)


def type_answer_box(text: str, fields: Mapping[str, TypeField], *, ordinal: int) -> str:
    """The front: ``[[type:Field]]`` as the reviewer's answer box (removed when the field
    is empty)."""
    found = _typed_field(TYPE_ANSWER.search(text), fields, ordinal)
    if found is None:
        return text
    expected, field = found
    if not expected:
        return TYPE_ANSWER.sub("", text)
    box = (
        '\n<center>\n<input type=text id=typeans onkeypress="_typeAnsPress();"\n'
        f"   style=\"font-family: '{field.font}'; font-size: {field.size}px;\">\n</center>\n"
    )
    return TYPE_ANSWER.sub(lambda _: box, text)


def _strip_expected(expected: str) -> str:
    """The expected answer as Anki compares it: no sounds, line breaks as spaces, no HTML."""
    return strip_html(_LINE_BREAKS.sub(" ", _SOUND_TAG.sub("", expected))).strip()


def type_answer_result(text: str, fields: Mapping[str, TypeField], *, ordinal: int) -> str:
    """The back: ``[[type:Field]]`` as the reviewer shows it when nothing was typed."""
    found = _typed_field(TYPE_ANSWER.search(text), fields, ordinal)
    if found is None or not found[0]:
        return TYPE_ANSWER.sub("", text)
    expected, field = found
    original = text
    text = text.replace(_HR, "")
    had_hr = len(text) != len(original)
    result = (
        f"\n<div style=\"font-family: '{field.font}'; font-size: {field.size}px\">"
        f"<code id=typeans>{encode_minimal(_strip_expected(expected))}</code></div>"
    )
    if had_hr:
        result = _HR + result  # keeps the separator above the comparison, as Anki does
        if TYPE_ANSWER.search(text) is None:
            return original
    return TYPE_ANSWER.sub(lambda _: result, text)


def play_buttons(text: str, sounds: Mapping[str, tuple[str, ...]]) -> str:
    """``[anki:play:q:N]`` as a button that plays the N-th sound of that side."""

    def button(match: re.Match[str]) -> str:
        names = sounds.get(match[1], ())
        index = int(match[2])
        if index >= len(names):
            return match[0]
        name = html.escape(names[index], quote=True)
        return (
            f'<a class="replay-button soundLink" href="#" data-sound="{name}" '
            f'draggable="false" title="Play {name}">{_PLAY_ICON}</a>'
        )

    return PLAY.sub(button, text)


def shown_sides(
    question: str,
    answer: str,
    *,
    sounds: Mapping[str, tuple[str, ...]],
    fields: Mapping[str, TypeField],
    ordinal: int,
) -> tuple[str, str]:
    """Both sides of a card as the reviewer shows them, from Anki's rendered HTML."""
    front = play_buttons(type_answer_box(question, fields, ordinal=ordinal), sounds)
    back = play_buttons(type_answer_result(answer, fields, ordinal=ordinal), sounds)
    return front, back


# The reviewer's own style for what it adds to a card (the answer box, the comparison and
# play buttons), in deckgen's words; the card's CSS comes after it and wins.
REVIEWER_CSS = """\
body.nightMode { color-scheme: dark; }
#typeans { width: 100%; box-sizing: border-box; line-height: 1.75; }
code#typeans { white-space: pre-wrap; }
.replay-button { display: inline-flex; vertical-align: middle; margin: 3px; }
.replay-button svg { width: 40px; height: 40px; }
.replay-button circle { fill: #fff; stroke: #414141; stroke-width: 2; }
.replay-button path { fill: #414141; }
.nightMode .replay-button circle { fill: #2c2c2c; stroke: #d0d0d0; }
.nightMode .replay-button path { fill: #d0d0d0; }
"""
