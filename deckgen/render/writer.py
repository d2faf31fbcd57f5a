"""The parser's events to card HTML, byte for byte as markdown-it (deckgen's first parser)
wrote it, so that decks built before the switch keep their HTML.

Raw HTML never gets here as HTML (see :mod:`deckgen.render.parse`); if some did, it is written
as text. Links and images with a script-capable scheme are written as the text they were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape as _html_escape
from typing import TYPE_CHECKING, Any

from deckgen.render.media import AUDIO, media_kind

if TYPE_CHECKING:
    from pyromark.event import Range

# Stand-ins for text that Markdown must not touch (math, clozes), swapped back on output:
# noncharacters, which no editor or keyboard produces (the parser strips any from the source).
STAND_IN = re.compile("\ufdd0([0-9]+)\ufdd1")
# Anki plays or speaks these tags wherever they appear in a field, attributes included.
_AV_TAG = re.compile(r"\[(?=(?:sound|anki):)")
# markdown-it's checks: these schemes are never made links, except images as data:.
_BAD_SCHEME = re.compile(r"(?:vbscript|javascript|file|data):", re.I)
_GOOD_DATA = re.compile(r"data:image/(?:gif|png|jpeg|webp);", re.I)
# Characters a URL keeps as they are; anything else is percent-encoded, as markdown-it does.
_URL_ENCODE = re.compile(r"[^A-Za-z0-9;/?:@&=+$,\-_.!~*'()#%]|%(?![0-9A-Fa-f]{2})")
_HEADING = {"H1": "h1", "H2": "h2", "H3": "h3", "H4": "h4", "H5": "h5", "H6": "h6"}
_ALIGN = {
    "None": "",
    "Left": ' style="text-align:left"',
    "Center": ' style="text-align:center"',
    "Right": ' style="text-align:right"',
}
_INLINE_TAGS = {"Emphasis": "em", "Strong": "strong", "Strikethrough": "s"}

Event = Any  # pyromark's events: a str, or a one-key dict
Highlighter = Callable[[str, "str | None"], str]


@dataclass(frozen=True)
class Protected:
    """A span the parser saw as a stand-in: its source text, and its HTML."""

    raw: str
    html: str


@dataclass(frozen=True)
class Context:
    """What writing needs beyond the events: the parsed source (UTF-8, as the event ranges
    count), the stand-ins, the media mapping and the code highlighter."""

    source: bytes
    protected: Sequence[Protected]
    media: Mapping[str, str] | None
    highlight: Highlighter


def escape_text(text: str) -> str:
    """Escape text as markdown-it does, and defuse Anki's [sound:] and [anki:] tags."""
    # A replace first counts the character, a slow scan even when there is none; `in` is fast.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return _AV_TAG.sub("&#91;", text) if "[" in text else text


def defuse(html: str) -> str:
    """Defuse Anki's tags in HTML that is already escaped (highlighted code)."""
    return _AV_TAG.sub("&#91;", html) if "[" in html else html


def escape(text: str) -> str:
    """Escape plain text for an HTML field, with Anki's sound and TTS tags shown, not played."""
    return defuse(_html_escape(text, quote=True))


def normalize_url(url: str) -> str:
    """Percent-encode a link target the way markdown-it does."""
    return _URL_ENCODE.sub(_percent, url) if _URL_ENCODE.search(url) else url


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode())


def safe_url(url: str, *, image: bool) -> bool:
    """Whether a target may become a link (markdown-it's rule: no script-capable scheme)."""
    url = url.strip()
    return not _BAD_SCHEME.match(url) or (image and bool(_GOOD_DATA.match(url)))


def write(events: Sequence[tuple[Event, Range]], ctx: Context) -> str:
    """Write a document's events as HTML."""
    return _Writer(ctx).run(events)


class _Writer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.out: list[str] = []
        self.text: list[str] = []  # pending text, written at once so [sound: is seen whole
        self.lf_before_block = False  # markdown-it breaks the line after <li> before a block
        self.aligns: tuple[str, ...] = ()
        self.cell = 0
        self.in_head = False
        self.tbody = False
        self.code: list[str] | None = None
        self.language: str | None = None
        # Open links and images: (kind, tail start, image) with kind "a", "img", "bad" (written
        # back as text from tail start on) or "skip" (a bad autolink, already written).
        self.links: list[tuple[str, int, dict[str, Any]]] = []
        self.alt: list[list[str]] = []  # alt text of the images being read
        self.last_end = 0

    def run(self, events: Sequence[tuple[Event, Range]]) -> str:
        text = self.text
        for event, span in events:
            if type(event) is str:
                self.simple(event, span)
            elif "Text" in event:
                if self.code is not None:
                    self.code.append(event["Text"])
                elif self.alt:
                    self.alt[-1].append(event["Text"])
                elif not (self.links and self.links[-1][0] == "skip"):
                    text.append(event["Text"])
            elif "Start" in event:
                self.start(event["Start"], span)
                continue  # a start's range runs to its end: not where its text has got to
            elif "End" in event:
                self.end(event["End"], span)
            else:
                ((kind, value),) = event.items()
                self.leaf(kind, value)
            if self.links:  # a link written back as text needs where its text ends
                self.last_end = span["end"]
        self.flush()
        return "".join(self.out)

    def flush(self) -> None:
        text = self.text
        if text:
            html = escape_text(text[0] if len(text) == 1 else "".join(text))
            self.out.append(self.swap(html) if "\ufdd0" in html else html)
            text.clear()

    def swap(self, html: str) -> str:
        """Put back the HTML of each stand-in in escaped text."""
        if "\ufdd0" not in html:
            return html
        protected = self.ctx.protected
        return STAND_IN.sub(lambda m: protected[int(m[1])].html, html)

    def restore(self, text: str) -> str:
        """Put back the source of each stand-in, where no HTML can go (code, attributes)."""
        if "\ufdd0" not in text:
            return text
        protected = self.ctx.protected
        return STAND_IN.sub(lambda m: protected[int(m[1])].raw, text)

    def block(self, html: str) -> None:
        self.flush()
        if self.lf_before_block:
            self.out.append("\n")
            self.lf_before_block = False
        self.out.append(html)

    def simple(self, event: str, span: Range) -> None:
        if self.alt:
            if event != "Rule":
                self.alt[-1].append("\n")
        elif event == "SoftBreak":
            self.text.append("\n")
        elif event == "HardBreak":
            self.flush()
            self.out.append("<br />\n")
        else:
            self.block("<hr />\n")

    def leaf(self, kind: str, value: str) -> None:
        if self.alt:
            if kind in ("Code", "Html", "InlineHtml"):
                self.alt[-1].append(value)
        elif kind == "Code":
            self.flush()
            self.out.append(f"<code>{escape_text(self.restore(value))}</code>")
        else:  # Html, InlineHtml: only if the source could not be made safe; shown as text
            self.text.append(value)

    def start(self, tag: Any, span: Range) -> None:
        if type(tag) is str:
            if tag == "Paragraph":
                self.block("<p>")
            elif tag == "Item":
                self.block("<li>")
                self.lf_before_block = True
            elif tag in _INLINE_TAGS:
                if not self.alt:
                    self.flush()
                    self.out.append(f"<{_INLINE_TAGS[tag]}>")
            elif tag == "TableHead":
                self.out.append("<thead>\n<tr>\n")
                self.in_head, self.cell = True, 0
            elif tag == "TableRow":
                if not self.tbody:
                    self.out.append("<tbody>\n")
                    self.tbody = True
                self.out.append("<tr>\n")
                self.cell = 0
            elif tag == "TableCell":
                align = _ALIGN[self.aligns[self.cell]] if self.cell < len(self.aligns) else ""
                self.out.append(f"<{'th' if self.in_head else 'td'}{align}>")
            return
        ((kind, value),) = tag.items()
        if kind == "Heading":
            self.block(f"<{_HEADING[value['level']]}>")
        elif kind == "List":
            if value is None:
                self.block("<ul>\n")
            else:
                self.block("<ol>\n" if value == 1 else f'<ol start="{value}">\n')
        elif kind == "CodeBlock":
            self.block("")
            self.code = []
            info = value["Fenced"].split() if type(value) is dict else []
            self.language = info[0] if info else None
        elif kind == "BlockQuote":
            self.block("<blockquote>\n")
        elif kind == "Table":
            self.block("<table>\n")
            self.aligns, self.tbody = value, False
        elif kind == "Link":
            self.start_link(value, span, image=False)
        elif kind == "Image":
            self.start_link(value, span, image=True)

    def start_link(self, link: dict[str, Any], span: Range, *, image: bool) -> None:
        url = self.restore(link["dest_url"])
        if link["link_type"] == "Email":
            url = "mailto:" + url
        if not safe_url(url, image=image):
            if link["link_type"] in ("Autolink", "Email"):
                self.text.append(self.source(span["start"], span["end"]))
                self.links.append(("skip", 0, link))
            else:
                self.text.append("![" if image else "[")
                self.links.append(("bad", span["start"] + (2 if image else 1), link))
            return
        if image:
            self.links.append(("img", 0, link))
            self.alt.append([])
            return
        self.links.append(("a", 0, link))
        if self.alt:
            return
        self.flush()
        href = escape_text(normalize_url(url))
        title = self.restore(link["title"])
        title_attr = f' title="{escape_text(title)}"' if title else ""
        self.out.append(f'<a href="{href}"{title_attr}>')

    def end(self, tag: Any, span: Range) -> None:
        if type(tag) is str:
            if tag == "Paragraph":
                self.flush()
                self.out.append("</p>\n")
            elif tag == "Item":
                self.flush()
                self.out.append("</li>\n")
                self.lf_before_block = False
            elif tag in _INLINE_TAGS:
                if not self.alt:
                    self.flush()
                    self.out.append(f"</{_INLINE_TAGS[tag]}>")
            elif tag == "CodeBlock":
                self.end_code()
            elif tag == "TableHead":
                self.out.append("</tr>\n</thead>\n")
                self.in_head = False
            elif tag == "TableRow":
                self.out.append("</tr>\n")
            elif tag == "TableCell":
                self.flush()
                self.out.append("</th>\n" if self.in_head else "</td>\n")
                self.cell += 1
            elif tag == "Table":
                self.out.append("</tbody>\n</table>\n" if self.tbody else "</table>\n")
            elif tag in ("Link", "Image"):
                self.end_link(span)
            return
        ((kind, value),) = tag.items()
        if kind == "Heading":
            self.flush()
            self.out.append(f"</{_HEADING[value]}>\n")
        elif kind == "List":
            self.out.append("</ol>\n" if value else "</ul>\n")
        elif kind == "BlockQuote":
            self.out.append("</blockquote>\n")

    def end_link(self, span: Range) -> None:
        kind, tail, link = self.links.pop()
        if kind == "bad":
            self.text.append(self.source(max(tail, self.last_end), span["end"]))
        elif kind == "a" and not self.alt:
            self.flush()
            self.out.append("</a>")
        elif kind == "img":
            self.end_image(link)

    def end_image(self, link: dict[str, Any]) -> None:
        alt = "".join(self.alt.pop())
        if self.alt:  # an image inside an image's text: its text joins the outer alt
            self.alt[-1].append(alt)
            return
        url, title = self.restore(link["dest_url"]), self.restore(link["title"])
        packed = self.ctx.media.get(url) if self.ctx.media else None
        self.flush()
        if packed is not None and media_kind(url) == AUDIO:
            self.out.append(f"[sound:{packed}]")
            return
        src = escape_text(packed if packed is not None else normalize_url(url))
        title_attr = f' title="{escape_text(title)}"' if title else ""
        alt_attr = escape_text(self.restore(alt))
        self.out.append(f'<img src="{src}" alt="{alt_attr}"{title_attr} />')

    def end_code(self) -> None:
        code = "".join(self.code or ())
        self.code = None
        if code and not code.endswith("\n"):  # a block that ends the field ends its last line
            code += "\n"
        self.out.append(self.ctx.highlight(code, self.language))

    def source(self, start: int, end: int) -> str:
        return self.ctx.source[start:end].decode()
