"""Markdown to the HTML of a card field."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping

from deckgen.render.cloze import MAX_DEPTH
from deckgen.render.known import KNOWN_CODE, Recorder
from deckgen.render.math import math_html
from deckgen.render.parse import Parsed, events, layout, parse
from deckgen.render.spans import Span, find_spans, might_have_spans
from deckgen.render.writer import Context, Protected, escape_text, write

_PARAGRAPH_RE = re.compile(r"<p>((?:(?!</?p>).)*)</p>\n?", re.S)
# Text with none of these can only be a plain paragraph.
_MARKDOWN_SYNTAX_RE = re.compile(r"[\\`*_\[\]<>&!|~$\n]|^(?:[-+#=]|\d{1,9}[.)])")
# The same test in two parts, three times faster on plain text: a search for a set of
# characters alone is a quick scan, where an alternative with ^ is tried at each position.
_MARKDOWN_CHARACTER_RE = re.compile(r"[\\`*_\[\]<>&!|~$\n]")
_MARKDOWN_START_RE = re.compile(r"[-+#=]|\d{1,9}[.)]")
# Put before a cloze's answer so that it is read as inline text ("1. x" is no list there),
# then taken out of the HTML again: a noncharacter and a space.
_INLINE_LEAD = "\ufdd2 "


class Renderer:
    """Turns Markdown into card HTML; create one and reuse it for a whole deck."""

    def block(
        self, text: str, *, cloze: bool = False, media: Mapping[str, str] | None = None
    ) -> str:
        """Render Markdown that may hold paragraphs, lists and code blocks. With ``cloze``,
        ``{{c1::answer}}`` deletions come through whole for Anki; ``media`` maps a media
        reference as written to its file name in the package."""
        return self._block(text, cloze=cloze, media=media, depth=0)

    def inline(
        self, text: str, *, cloze: bool = False, media: Mapping[str, str] | None = None
    ) -> str:
        """Render one line of Markdown (emphasis, code, links) without a paragraph around it;
        text that is more than a paragraph (a list, say) is rendered as a block."""
        return self._inline(text, cloze=cloze, media=media, depth=0)

    def _block(self, text: str, *, cloze: bool, media: Mapping[str, str] | None, depth: int) -> str:
        stripped = text.strip()
        if not (_MARKDOWN_CHARACTER_RE.search(stripped) or _MARKDOWN_START_RE.match(stripped)):
            return f"<p>{escape_text(stripped)}</p>" if stripped else ""
        return self._render(text, cloze=cloze, media=media, depth=depth).rstrip("\n")

    def _inline(
        self, text: str, *, cloze: bool, media: Mapping[str, str] | None, depth: int
    ) -> str:
        rendered = self._block(text, cloze=cloze, media=media, depth=depth)
        paragraph = _PARAGRAPH_RE.fullmatch(rendered)
        return paragraph.group(1) if paragraph else rendered

    def _render(
        self, text: str, *, cloze: bool, media: Mapping[str, str] | None, depth: int = 0
    ) -> str:
        parsed = parse(text)
        highlight = self.highlighter(cloze)
        if not might_have_spans(parsed.text, cloze=cloze):
            return write(parsed.events, Context(parsed.text.encode(), (), media, highlight))
        spans = find_spans(layout(parsed), cloze=cloze)
        if not spans:
            return write(parsed.events, Context(parsed.text.encode(), (), media, highlight))
        protected = [self._protect(span, media, depth) for span in spans]
        swapped = _swap_in(parsed, spans)
        return write(events(swapped), Context(swapped.encode(), protected, media, highlight))

    def highlighter(self, cloze: bool) -> Callable[[str, str | None], str]:
        """What writes a code block's HTML: highlighted, or remembered from a field that
        held the same block (see :mod:`deckgen.render.known`)."""
        return _highlighter(cloze)

    def _protect(self, span: Span, media: Mapping[str, str] | None, depth: int) -> Protected:
        if span.kind == "math" or span.cloze is None:
            return Protected(span.text, math_html(span.text))
        found, run = span.cloze, span.run.text
        answer_end = found.hint if found.hint is not None else found.close
        # Past Anki's nesting limit, inner markers are left to Markdown as plain text.
        nested = depth + 1 < MAX_DEPTH
        answer = self._part(run[found.body : answer_end], nested, media, depth + 1)
        html = run[found.start : found.body] + answer
        if found.hint is not None:
            html += "::" + self._part(run[found.hint + 2 : found.close], False, media, depth + 1)
        return Protected(span.text, html + "}}")

    def _part(self, text: str, cloze: bool, media: Mapping[str, str] | None, depth: int) -> str:
        """Render part of a line (an answer, a hint) as inline Markdown, whatever it starts
        with; leading and trailing space is kept, as Anki shows it."""
        core = text.strip()
        if not core:
            return escape_text(text)
        rendered = self._inline(_INLINE_LEAD + core, cloze=cloze, media=media, depth=depth)
        html = rendered.replace(_INLINE_LEAD, "", 1)
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        return escape_text(lead) + html + escape_text(trail)


class CodeRecorder(Renderer):
    """A renderer that writes a stand-in for each code block and keeps the blocks in order
    (see :mod:`deckgen.render.known`): it loads no lexer."""

    def __init__(self) -> None:
        self.recorder = Recorder()

    def highlighter(self, cloze: bool) -> Callable[[str, str | None], str]:
        return self.recorder.for_fields(cloze)


def _swap_in(parsed: Parsed, spans: list[Span]) -> str:
    """The parsed text with each span replaced by its stand-in."""
    pieces: list[str] = []
    last = 0
    for index, span in enumerate(spans):
        start = span.run.to_parsed(span.start)
        end = span.run.to_parsed(span.end - 1) + 1
        pieces += (parsed.text[last:start], f"\ufdd0{index}\ufdd1")
        last = end
    pieces.append(parsed.text[last:])
    return "".join(pieces)


@functools.cache
def _highlighter(cloze: bool) -> Callable[[str, str | None], str]:
    def highlight(code: str, language: str | None) -> str:
        html = KNOWN_CODE.get((code, language, cloze))
        if html is not None:
            return html
        from deckgen.render.code import highlight_block  # Pygments, once code is highlighted

        return highlight_block(code, language, cloze=cloze)

    return highlight
