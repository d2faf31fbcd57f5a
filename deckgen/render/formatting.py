"""Highlighted tokens to HTML: the characters Pygments' ``HtmlFormatter(nowrap=True)`` writes,
in three fifths of the time. deckgen uses none of that formatter's other options (line
numbers, anchors, tag files, inline styles), and most of its time goes on the line-by-line
bookkeeping they need.

What Pygments writes, and so what this writes: each line's text in runs of one CSS class
(adjacent tokens of the same class merged, empty tokens ignored), each run not of plain text
in ``<span class="...">``; a span never crosses a line break but is closed before it and
opened again after; an empty line stays empty; a last line with text gets a line break; ``&``,
``<`` and ``>`` escaped, quotes not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pygments.token import STANDARD_TYPES, _TokenType

_CLOSE = "</span>"


# The opening tag of each token type met so far ("" for plain text), worked out once. Equal
# tags are one object, so telling whether a token continues the open span is a quick check.
_OPENERS: dict[_TokenType, str] = {}
_TAGS: dict[str, str] = {}


def _opener(kind: _TokenType) -> str:
    classes = css_classes(kind)
    tag = f'<span class="{classes}">' if classes else ""
    opener = _OPENERS[kind] = _TAGS.setdefault(tag, tag)
    return opener


def css_classes(kind: _TokenType) -> str:
    """A token type's CSS classes as Pygments names them: the short name of its nearest
    standard type, and for a type below that, one more class per level, outermost first."""
    below: list[_TokenType] = []
    base = kind
    while base not in STANDARD_TYPES:
        below.append(base)
        parent = base.parent
        assert parent is not None  # only Token has no parent, and it is a standard type
        base = parent
    short = STANDARD_TYPES[base]
    # Name.Foo.Bar -> "n n-Foo n-Foo-Bar"; a class-less base (Text) still counts as a class.
    names = [short + "".join(f"-{part}" for part in level[len(base) :]) for level in below]
    return " ".join([short, *reversed(names)])


def format_tokens(tokens: Iterable[tuple[_TokenType, str]]) -> str:
    """The HTML of a token stream, as ``HtmlFormatter(nowrap=True)`` writes it."""
    openers = _OPENERS
    out: list[str] = []
    write = out.append
    span = ""  # the opening tag of the span left open at the end of ``out``, "" if none
    for kind, value in tokens:
        if not value:
            continue  # an empty token neither opens a span nor closes one
        try:
            opener = openers[kind]
        except KeyError:
            opener = _opener(kind)
        if "&" in value:
            value = value.replace("&", "&amp;")
        if "<" in value:
            value = value.replace("<", "&lt;")
        if ">" in value:
            value = value.replace(">", "&gt;")
        if "\n" not in value:
            if opener is not span:  # else the text joins the open span
                if span:
                    write(_CLOSE)
                if opener:
                    write(opener)
                span = opener
            write(value)
        elif not opener:
            if span:
                write(_CLOSE)
            write(value)
            span = ""
        else:
            span = _write_lines(write, opener, span, value.split("\n"))
    if span:
        write(_CLOSE)
    if out and not out[-1].endswith("\n"):
        write("\n")  # Pygments ends the last line as it ends every other
    return "".join(out)


def _write_lines(write: Callable[[str], None], opener: str, span: str, lines: list[str]) -> str:
    """Write text of one class that holds line breaks, with a span on each line that has
    text; return the span left open."""
    first, last = lines[0], lines[-1]
    if first:
        if opener is not span:
            if span:
                write(_CLOSE)
            write(opener)
        write(first)
        write(_CLOSE)
    elif span:
        write(_CLOSE)
    middle = [f"{opener}{line}{_CLOSE}" if line else "" for line in lines[1:-1]]
    write("\n".join(["", *middle, ""]))
    if not last:
        return ""
    write(opener)
    write(last)
    return opener
