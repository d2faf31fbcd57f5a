"""Anki's cloze filter (``{{cloze:Field}}``) and the small text helpers it and the type-in
box need, written to give the HTML Anki's backend gives (rslib/src/cloze.rs, text.rs).

Anki parses ``{{cN::text::hint}}`` in the field's HTML, nested up to ten deep. On the front,
the active deletion becomes ``[...]`` (or ``[hint]``) with the hidden text in an attribute;
on the back it is revealed; other deletions show their text, marked inactive. A field
without the card's deletion renders as nothing.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

MAX_OPEN = 10  # deeper deletions are read as text, as Anki does
_OPEN = re.compile(r"\{\{c([0-9,]*)::|\}\}")
# Inside MathJax, Anki drops the HTML tags a revealed deletion leaves, so the math still parses.
_MATHJAX = re.compile(r"(\\[(\[])(.*?)(\\[\])])", re.S | re.I)
_HTML = re.compile(
    r"(<!--.*?-->)|(<style.*?>.*?</style>)|(<script.*?>.*?</script>)|(<.*?>)", re.S | re.I
)
_SPECIAL = re.compile(r"<(?:!--|style|script)", re.I)
_TAG = re.compile(r"<[^>]*>")  # what `<.*?>` matches
_U16 = 0xFFFF


@dataclass
class Cloze:
    """One deletion: its numbers as written, its parts (text and nested deletions), its hint."""

    ordinals: tuple[int, ...]
    nodes: list[str | Cloze] = field(default_factory=list)
    hint: str | None = None

    def clozed_text(self) -> str:
        """The deletion's text with every nested deletion revealed."""
        return "".join(n if isinstance(n, str) else n.clozed_text() for n in self.nodes)

    def shown_hint(self) -> str:
        return "..." if self.hint is None else self.hint


def _ordinals(digits: str) -> tuple[int, ...]:
    """The numbers of ``{{c1,2::``: unique, sorted, each a u16 (others are dropped)."""
    numbers = set()
    for part in digits.split(","):
        # Compared as text first: Python refuses to read a number of thousands of digits.
        if part and len(part.lstrip("0")) <= 5 and int(part) <= _U16:
            numbers.add(int(part))
    return tuple(sorted(numbers))


def _tokens(text: str) -> list[tuple[int, ...] | str | None]:
    """Anki's tokens: an opening ``{{cN::`` (its numbers), a closing ``}}`` (None), or text."""
    tokens: list[tuple[int, ...] | str | None] = []
    pos = 0
    while pos < len(text):
        match = _OPEN.search(text, pos)
        while match is not None and match.group(1) is not None and not _ordinals(match[1]):
            match = _OPEN.search(text, match.start() + 1)  # {{c,:: opens nothing
        if match is None:
            tokens.append(text[pos:])
            break
        if match.start() > pos:
            tokens.append(text[pos : match.start()])
        tokens.append(None if match.group(1) is None else _ordinals(match[1]))
        pos = match.end()
    return tokens


def parse_clozes(text: str) -> list[str | Cloze]:
    """Text and deletions at the top level, nested deletions inside their parents."""
    open_clozes: list[Cloze] = []
    output: list[str | Cloze] = []
    for token in _tokens(text):
        if isinstance(token, tuple):
            if len(open_clozes) < MAX_OPEN:
                open_clozes.append(Cloze(token))
        elif isinstance(token, str):
            if open_clozes:
                cloze = open_clozes[-1]
                if not token.startswith("image-occlusion:") and "::" in token:
                    token, cloze.hint = token.split("::", 1)
                cloze.nodes.append(token)
            else:
                output.append(token)
        elif open_clozes:
            cloze = open_clozes.pop()
            (open_clozes[-1].nodes if open_clozes else output).append(cloze)
        else:
            output.append("}}")
    return output


def cloze_numbers(text: str) -> set[int]:
    """The deletion numbers in a field, 0 left out, as Anki counts a note's cards."""
    found: set[int] = set()

    def add(nodes: list[str | Cloze]) -> None:
        for node in nodes:
            if isinstance(node, Cloze):
                found.update(n for n in node.ordinals if n != 0)
                add(node.nodes)

    add(parse_clozes(text))
    return found


def encode_attribute(text: str) -> str:
    """Escape text for an attribute as Anki's htmlescape crate does: the five HTML
    characters by name, any other Latin-1 character that is not a letter or digit as
    ``&#xHH;``."""
    out = []
    for char in text:
        entity = _MINIMAL.get(char)
        if entity is not None:
            out.append(entity)
        elif ord(char) < 256 and (ord(char) > 127 or not (char.isascii() and char.isalnum())):
            out.append(f"&#x{ord(char):02X};")
        else:
            out.append(char)
    return "".join(out)


_MINIMAL = {'"': "&quot;", "&": "&amp;", "'": "&#x27;", "<": "&lt;", ">": "&gt;"}


def encode_minimal(text: str) -> str:
    """Escape the five HTML characters, as Anki's htmlescape crate does."""
    return "".join(_MINIMAL.get(char, char) for char in text)


def _reveal(cloze: Cloze, ordinal: int, question: bool, found: list[bool], out: list[str]) -> None:
    active = ordinal in cloze.ordinals
    found[0] = found[0] or active
    first = cloze.nodes[0] if cloze.nodes else None
    if isinstance(first, str) and first.startswith("image-occlusion:"):
        raise ValueError("image occlusion deletions are not previewed")
    numbers = ",".join(map(str, cloze.ordinals))
    if question and active:
        inner: list[str] = []
        for node in cloze.nodes:
            if isinstance(node, str):
                inner.append(node)
            else:
                _reveal(node, ordinal, question, found, inner)
        hidden = encode_attribute("".join(inner))
        out.append(
            f'<span class="cloze" data-cloze="{hidden}" data-ordinal="{numbers}">'
            f"[{cloze.shown_hint()}]</span>"
        )
        return
    css = "cloze" if active else "cloze-inactive"
    out.append(f'<span class="{css}" data-ordinal="{numbers}">')
    for node in cloze.nodes:
        if isinstance(node, str):
            out.append(node)
        else:
            _reveal(node, ordinal, question, found, out)
    out.append("</span>")


def reveal_clozes(text: str, ordinal: int, *, question: bool) -> str:
    """A cloze field as card ``ordinal`` (1-based) shows it on the front or the back; ''
    when the field has no deletion with that number."""
    out: list[str] = []
    found = [False]
    for node in parse_clozes(text):
        if isinstance(node, str):
            out.append(node)
        else:
            _reveal(node, ordinal, question, found, out)
    return "".join(out) if found[0] else ""


def cloze_filter(text: str, ordinal: int, *, question: bool) -> str:
    """``{{cloze:Field}}``: the revealed text, with HTML tags dropped inside MathJax."""
    revealed = reveal_clozes(text, ordinal, question=question)
    return _MATHJAX.sub(lambda m: m[1] + strip_html_preserving_entities(m[2]) + m[3], revealed)


def cloze_only_filter(text: str, ordinal: int, *, question: bool) -> str:
    """``{{cloze-only:Field}}``: the active deletions' hints (front) or texts (back)."""
    return ", ".join(_active_texts(parse_clozes(text), ordinal, question=question))


def cloze_for_typing(text: str, ordinal: int) -> str:
    """What a typed answer to cloze ``ordinal`` is compared with (all its deletions' texts,
    once if they are all the same)."""
    texts = _active_texts(parse_clozes(text), ordinal, question=False)
    if texts and min(texts) == max(texts):
        return texts[-1]
    return ", ".join(texts)


def _active_texts(nodes: list[str | Cloze], ordinal: int, *, question: bool) -> list[str]:
    out: list[str] = []

    def visit(node: str | Cloze) -> None:
        if isinstance(node, Cloze):
            if ordinal in node.ordinals:
                out.append(node.shown_hint() if question else node.clozed_text())
            for child in node.nodes:
                visit(child)

    for node in nodes:
        visit(node)
    return out


def strip_html_preserving_entities(text: str) -> str:
    """Drop comments, style and script elements and every tag, as Anki does."""
    if _SPECIAL.search(text):
        return _HTML.sub("", text)
    return _TAG.sub("", text)  # the same, for text with tags only: a few times faster


def strip_html(text: str) -> str:
    """Drop the HTML and decode the entities, with no-break spaces as spaces."""
    stripped = strip_html_preserving_entities(text)
    if "&" not in stripped:
        return stripped
    return html.unescape(stripped).replace("\xa0", " ")
