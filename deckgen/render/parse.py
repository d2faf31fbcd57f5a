"""Parsing a field: CommonMark with GitHub's tables and strikethrough, by pulldown-cmark.

pulldown-cmark passes raw HTML through, which a card must never do. So raw HTML is turned
into text in the source itself: a backslash goes before the ``<`` that opens each tag or HTML
block, and the field is parsed again. The result is what markdown-it (deckgen's first
parser) gave with its HTML rules off: the tag shows as text, and Markdown inside still counts.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import pyromark
from pyromark.event import Range

OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
_PARSER = pyromark.Markdown(options=OPTIONS)
# Escaping a tag can reveal another (a tag inside an HTML block); a few rounds settle any real
# text, and the writer shows whatever is left as text anyway.
_ROUNDS = 8
# The delimiters of the writer's stand-ins (noncharacters, which no keyboard or editor
# produces): taken out of the source so that no text can pose as one.
STAND_IN_DELIMITERS = re.compile("[\ufdd0\ufdd1]")

Events = list[tuple[Any, Range]]
_INLINE = frozenset({"Emphasis", "Strong", "Strikethrough", "Link", "Image"})


def events(text: str) -> Events:
    """The parser's events, each with its range in UTF-8 bytes of ``text``."""
    return list(_PARSER.events_with_range(text))


@dataclass
class Parsed:
    """A field as parsed: ``text`` is the source with raw HTML escaped; ``events`` are its
    events; offsets of ``text`` map back to the source with :meth:`to_source`."""

    source: str
    text: str
    events: Events
    inserted: list[int] = field(default_factory=list)  # offsets in text of added backslashes
    _chars: list[int] | None = None

    def to_source(self, offset: int) -> int:
        """The source offset of a character offset in ``text``."""
        return offset - bisect.bisect_left(self.inserted, offset)

    def char(self, byte: int) -> int:
        """The character offset in ``text`` of a UTF-8 byte offset."""
        if self._chars is None:
            if self.text.isascii():
                return byte
            self._chars = [0, *accumulate(map(len, map(str.encode, self.text)))]
        return bisect.bisect_left(self._chars, byte)


def parse(source: str) -> Parsed:
    """Parse a field, with any raw HTML in it escaped so that it shows as text."""
    if STAND_IN_DELIMITERS.search(source):
        source = STAND_IN_DELIMITERS.sub("\ufffd", source)
    parsed = Parsed(source, source, events(source))
    if "<" not in source:
        return parsed
    escaped: list[int] = []  # source offsets of the '<' given a backslash
    for _ in range(_ROUNDS):
        found = [parsed.to_source(parsed.char(b)) for b in _html_starts(parsed)]
        if not found:
            break
        escaped = sorted({*escaped, *found})
        text = "".join(_escape_at(source, escaped))
        parsed = Parsed(source, text, events(text), [s + i for i, s in enumerate(escaped)])
    return parsed


def _escape_at(source: str, offsets: list[int]) -> list[str]:
    pieces: list[str] = []
    last = 0
    for offset in offsets:
        pieces += (source[last:offset], "\\")
        last = offset
    pieces.append(source[last:])
    return pieces


def _html_starts(parsed: Parsed) -> list[int]:
    """Byte offsets of the '<' that open inline HTML and HTML blocks."""
    starts, encoded = [], b""
    for event, span in parsed.events:
        if type(event) is not dict:
            continue
        if "InlineHtml" in event:
            starts.append(span["start"])
        elif event.get("Start") == "HtmlBlock":
            encoded = encoded or parsed.text.encode()
            starts.append(encoded.index(b"<", span["start"], span["end"]))
    return starts


@dataclass(frozen=True)
class Run:
    """The inline text of one paragraph, heading, table cell or list item line, with the
    prefixes of its continuation lines (``> ``, indentation) left out: ``text``; for each of
    its pieces, (offset in run, offset in the parsed text); and the run offsets of its code
    spans and link targets (``](url "title")``), where no math or cloze can start."""

    text: str
    pieces: tuple[tuple[int, int], ...]
    code: tuple[tuple[int, int], ...]

    def to_parsed(self, offset: int) -> int:
        """The offset in the parsed text of an offset in this run."""
        i = bisect.bisect_right(self.pieces, (offset, 1 << 62)) - 1
        run_start, text_start = self.pieces[i]
        return text_start + offset - run_start


@dataclass(frozen=True)
class Layout:
    """Where the parts of a field are: inline runs, code spans and code blocks (character
    ranges in the parsed text), and images (range start, link data)."""

    runs: list[Run]
    code_spans: list[tuple[int, int]]
    code_blocks: list[tuple[int, int]]
    images: list[tuple[int, dict[str, Any]]]


def layout(parsed: Parsed) -> Layout:
    """Find a field's inline runs, code and images from its events."""
    char, text = parsed.char, parsed.text
    runs: list[Run] = []
    code_spans: list[tuple[int, int]] = []
    code_blocks: list[tuple[int, int]] = []
    images: list[tuple[int, dict[str, Any]]] = []
    lines: list[tuple[int, int]] = []  # (start, end) of the current run's lines
    spans: list[tuple[int, int]] = []  # the current run's code spans and link targets
    links: list[int] = []  # where the text of each open link or image starts
    last = 0  # where the previous event in this run ends
    line_start, end, in_code = -1, -1, False

    def close_run() -> None:
        nonlocal line_start, end
        if line_start >= 0:
            lines.append((line_start, end))
            pieces, offset, parts = [], 0, []
            for start, stop in lines:
                pieces.append((offset, start))
                parts.append(text[start:stop])
                offset += stop - start
            code = tuple(sorted((_in_run(pieces, a), _in_run(pieces, b)) for a, b in spans))
            runs.append(Run("".join(parts), tuple(pieces), code))
        lines.clear()
        spans.clear()
        links.clear()
        line_start = end = -1

    for event, span in parsed.events:
        tag = _tag(event)
        if tag is None:  # a block starts or ends
            close_run()
            if type(event) is dict and "CodeBlock" in event.get("Start", ()):
                in_code = True
                code_blocks.append((char(span["start"]), char(span["end"])))
            elif type(event) is dict and event.get("End") == "CodeBlock":
                in_code = False
            continue
        if in_code:
            continue
        start, stop = char(span["start"]), char(span["end"])
        if line_start < 0:
            # An escaped character's text starts after its backslash, which belongs to no
            # event; the run keeps it, so that '\$' and '\(' stay escapes.
            line_start = start - 1 if start and text[start - 1] == "\\" else start
        if tag == "break":
            lines.append((line_start, stop))
            line_start = -1
            continue
        if tag == "start":
            stop = start + 1
            if "Image" in event["Start"]:
                images.append((start, event["Start"]["Image"]))
                stop += 1
            if "Link" in event["Start"] or "Image" in event["Start"]:
                links.append(stop)
        elif tag == "end" and event["End"] in ("Link", "Image"):
            spans.append((max(last, links.pop()), stop))
        elif tag == "Code":
            code_spans.append((start, stop))
            spans.append((start, stop))
        end = max(end, stop)
        last = stop
    close_run()
    return Layout(runs, code_spans, code_blocks, images)


def _in_run(pieces: list[tuple[int, int]], offset: int) -> int:
    """The run offset of an offset in the parsed text (pieces: (run offset, text offset))."""
    run_start, text_start = pieces[0]
    for piece_run, piece_text in pieces:
        if piece_text > offset:
            break
        run_start, text_start = piece_run, piece_text
    return run_start + offset - text_start


def _tag(event: Any) -> str | None:
    """What an event is to :func:`layout`: None for block events."""
    if type(event) is str:
        return None if event == "Rule" else "break"
    ((kind, value),) = event.items()
    if kind == "Start":
        return "start" if _inline(value) else None
    if kind == "End":
        return "end" if _inline(value) else None
    return str(kind)


@functools.cache
def _inline_name(name: str) -> bool:
    return name in _INLINE


def _inline(tag: Any) -> bool:
    return _inline_name(tag if type(tag) is str else next(iter(tag)))
