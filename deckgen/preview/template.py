"""Anki's card template language, rendered as Anki's backend renders it for
``card.question()`` and ``card.answer()`` (rslib/src/template.rs, template_filters.rs, and
the Python half in pylib/anki/template.py).

Covered: ``{{Field}}``, ``{{#Field}}...{{/Field}}``, ``{{^Field}}...{{/Field}}``,
``{{FrontSide}}``, comments, the special fields (Tags, Type, Deck, Subdeck, Card, CardFlag,
``cN``) and the filters ``text``, ``cloze``, ``cloze-only`` and ``type`` (left as
``[[type:Field]]`` for the reviewer, as Anki leaves it). Sounds become Anki's
``[anki:play:q:N]`` references. Other filters (hint, furigana, tts) raise
:class:`TemplateError`: deckgen's templates do not use them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from deckgen.preview.cloze import (
    cloze_filter,
    cloze_numbers,
    cloze_only_filter,
    strip_html,
)

_ALT_SYNTAX = "{{=<% %>=}}"
_EMPTY_FIELD = re.compile(r"(?:[ \t\n\x0b\x0c\r]|</?(?:br|div) ?/?>)*", re.I)
_SOUND = re.compile(r"\[sound:([^\]]+)\]")
_CLOZE_CONDITIONAL = re.compile(r"c\+?[0-9]+")
_U32 = 0xFFFF_FFFF


class TemplateError(Exception):
    """A template the preview cannot render as Anki would."""


@dataclass(frozen=True)
class Text:
    """Text, or a comment, copied as it is."""

    text: str


@dataclass(frozen=True)
class Replacement:
    """``{{filter:...:Field}}``: filters in the order they apply (the one nearest the
    field first)."""

    key: str
    filters: tuple[str, ...]


@dataclass(frozen=True)
class Conditional:
    """``{{#Field}}`` (or ``{{^Field}}`` when negated) up to its ``{{/Field}}``."""

    key: str
    children: tuple[Text | Replacement | Conditional, ...]
    negated: bool = False


Node = Text | Replacement | Conditional


@dataclass(frozen=True)
class CardSides:
    """A card as ``card.question()`` and ``card.answer()`` return it, without the leading
    ``<style>`` element; and the media file of each ``[anki:play:...]``, by side."""

    question: str
    answer: str
    question_sounds: tuple[str, ...] = ()
    answer_sounds: tuple[str, ...] = ()


def _tokens(template: str) -> list[tuple[str, str]]:
    """('text' | 'handlebar' | 'comment', content) in order, as Anki's lexer finds them:
    a handlebar is the text between an opening delimiter and the next closing one."""
    start, end = "{{", "}}"
    if template.lstrip().startswith(_ALT_SYNTAX):
        template = template.lstrip()
        while template.startswith(_ALT_SYNTAX):
            template = template[len(_ALT_SYNTAX) :]
        start, end = "<%", "%>"
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(template):
        found = []
        for kind, opening, closing in (("handlebar", start, end), ("comment", "<!--", "-->")):
            first = template.find(opening, pos)
            last = template.find(closing, first + len(opening)) if first >= 0 else -1
            if last >= 0:
                found.append((first, kind, template[first + len(opening) : last], last))
        if not found:
            tokens.append(("text", template[pos:]))
            break
        first, kind, content, last = min(found)
        if first > pos:
            tokens.append(("text", template[pos:first]))
        tokens.append((kind, content))
        pos = last + len(end if kind == "handlebar" else "-->")
    return tokens


@functools.lru_cache(maxsize=64)
def parse_template(template: str) -> tuple[Node, ...]:
    """A template's nodes; a section closed by the wrong name, or never closed, raises."""
    tokens = iter(_tokens(template))

    def inner(open_key: str | None) -> tuple[Node, ...]:
        nodes: list[Node] = []
        for kind, content in tokens:
            if kind == "text":
                nodes.append(Text(content))
            elif kind == "comment":
                nodes.append(Text(f"<!--{content}-->"))
            else:
                handle = content.lstrip("{").strip()
                prefix = handle[:1] if len(handle.encode()) >= 2 else ""
                if prefix in ("#", "^"):
                    key = handle[1:].lstrip()
                    nodes.append(Conditional(key, inner(key), negated=prefix == "^"))
                elif prefix == "/":
                    key = handle[1:].lstrip()
                    if key != open_key:
                        raise TemplateError(f"{{{{/{key}}}}} closes a section that is not open")
                    return tuple(nodes)
                else:
                    *filters, key = handle.split(":")
                    nodes.append(Replacement(key, tuple(reversed(filters))))
        if open_key is not None:
            raise TemplateError(f"{{{{#{open_key}}}}} is never closed")
        return tuple(nodes)

    return inner(None)


def field_is_empty(text: str) -> bool:
    """Whether Anki counts a field as empty: only whitespace and empty <br> or <div> tags."""
    return _EMPTY_FIELD.fullmatch(text) is not None


@dataclass(frozen=True)
class _Context:
    fields: Mapping[str, str]
    nonempty: frozenset[str]
    ordinal: int  # the card's ordinal, 0-based
    front_side: str | None  # the rendered question, once the answer is being rendered


def _is_cloze_conditional(key: str) -> bool:
    return _CLOZE_CONDITIONAL.fullmatch(key) is not None and int(key[1:]) <= _U32


def _condition(key: str, context: _Context, *, negated: bool) -> bool:
    if key in context.nonempty:
        return not negated
    if key in context.fields or _is_cloze_conditional(key):
        return negated
    raise TemplateError(f"{{{{{'^' if negated else '#'}{key}}}}} names no field")


def _filter(name: str, text: str, key: str, context: _Context) -> str | None:
    """One built-in filter's output; None for a filter Anki's backend does not know, which
    (with no add-on to apply it) leaves the text as it is from there on."""
    question = context.front_side is None
    if name == "text":
        return strip_html(text)
    if name in ("type", "type-cloze", "type-nc"):
        middle = {"type": "", "type-cloze": "cloze:", "type-nc": "nc:"}[name]
        return f"[[type:{middle}{key}]]"
    if name == "cloze":
        return cloze_filter(text, context.ordinal + 1, question=question)
    if name == "cloze-only":
        return cloze_only_filter(text, context.ordinal + 1, question=question)
    if name == "":
        return text
    if name in ("hint", "furigana", "kanji", "kana") or name.startswith("tts "):
        raise TemplateError(f"the preview does not render Anki's {name.split()[0]!r} filter")
    return None


def _apply_filters(text: str, filters: tuple[str, ...], key: str, context: _Context) -> str:
    if filters == ("cloze", "type"):
        filters = ("type-cloze",)
    elif filters == ("nc", "type"):
        filters = ("type-nc",)
    elif filters and filters[-1] == "type":
        filters = ("type",)
    for name in filters:
        output = _filter(name, text, key, context)
        if output is None:
            break
        text = output
    return text


def _render(nodes: tuple[Node, ...], context: _Context, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, Text):
            out.append(node.text)
        elif isinstance(node, Conditional):
            shown = _condition(node.key, context, negated=node.negated)
            _render(node.children, context, out if shown else [])  # errors count either way
        elif node.key == "FrontSide":
            out.append(context.front_side or "")
        elif not node.key and node.filters:
            pass  # a filter that makes its own text: none without add-ons
        elif node.key in context.fields:
            out.append(_apply_filters(context.fields[node.key], node.filters, node.key, context))
        else:
            written = ":".join((*reversed(node.filters), node.key))
            raise TemplateError(f"{{{{{written}}}}} names no field")


def _is_empty(nodes: tuple[Node, ...], nonempty: frozenset[str]) -> bool:
    """Anki's test for a blank front: no replacement of a non-empty field is reached."""
    for node in nodes:
        if isinstance(node, Replacement):
            if node.key in nonempty:
                return False
        elif isinstance(node, Conditional):
            if (node.key in nonempty) == node.negated:
                continue
            if not _is_empty(node.children, nonempty):
                return False
    return True


def extract_sounds(text: str, *, side: str) -> tuple[str, tuple[str, ...]]:
    """``[sound:name]`` to ``[anki:play:<side>:<n>]``, as Anki extracts them, and the names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        names.append(match[1])
        return f"[anki:play:{side}:{len(names) - 1}]"

    return _SOUND.sub(number, text), tuple(names)


def render_card(
    front: str, back: str, fields: Mapping[str, str], *, ordinal: int, cloze: bool
) -> CardSides:
    """Both sides of card ``ordinal`` (0-based) of a note with ``fields`` (special fields
    included, see :func:`card_fields`), from its templates."""
    fields = {**fields}
    fields.setdefault(f"c{ordinal + 1}", "1")
    nonempty = frozenset(name for name, text in fields.items() if not field_is_empty(text))
    context = _Context(fields, nonempty, ordinal, None)
    question_nodes = parse_template(front)
    out: list[str] = []
    _render(question_nodes, context, out)
    if cloze:
        numbers: set[int] = set().union(*(cloze_numbers(text) for text in fields.values()))
        if ordinal + 1 not in numbers:
            raise TemplateError(f"the note has no cloze {ordinal + 1}: Anki shows an empty card")
    elif _is_empty(question_nodes, nonempty):
        raise TemplateError("the front of this card is blank: Anki shows an empty card")
    question, question_sounds = extract_sounds("".join(out), side="q")
    context = _Context(fields, nonempty, ordinal, question)
    out = []
    _render(parse_template(back), context, out)
    answer, answer_sounds = extract_sounds("".join(out), side="a")
    return CardSides(question, answer, question_sounds, answer_sounds)


def card_fields(
    names: tuple[str, ...],
    values: tuple[str, ...],
    *,
    tags: tuple[str, ...],
    note_type: str,
    deck: str,
    template: str,
) -> dict[str, str]:
    """A note's fields by name, with the special fields Anki adds where no field has the
    name (the card's id is not known before import: ``{{CardID}}`` renders empty)."""
    fields = dict(zip(names, values, strict=True))
    special = {
        "Tags": " ".join(tags),
        "Type": note_type,
        "Subdeck": deck.rsplit("::", 1)[-1],
        "Deck": deck,
        "CardFlag": "flag0",
        "Card": template,
        "CardID": "",
    }
    for name, value in special.items():
        fields.setdefault(name, value)
    return fields
