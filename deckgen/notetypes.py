"""The note kinds a question can be, each an Anki note type with ids frozen forever.

Anki matches a note type by id and updates it in place only while its fields and templates
stay the same (see the README, "Updating a deck"); so once a kind is released, its id, field
names and template names never change. Templates and CSS may change: Anki updates them.
A kind is a value: the writer, the lock, ``diff`` and ``stats`` read everything from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Field(Enum):
    """How a note field is made from the source."""

    INLINE = "inline Markdown"  # one line: no paragraph around it
    BLOCK = "Markdown"
    CLOZE = "Markdown with cloze deletions"
    PLAIN = "plain text"  # escaped, never parsed: what a typed answer is compared with
    TOPIC = "the topic's name"
    ID = "the question's id"


@dataclass(frozen=True)
class NoteField:
    """One field of a note type, and where its content comes from."""

    name: str
    source: str  # the question's key; unused for TOPIC and ID
    style: Field


@dataclass(frozen=True)
class Template:
    """One card template: a note makes one card per template (cloze: per deletion)."""

    name: str
    front: str
    back: str


@dataclass(frozen=True)
class NoteKind:
    """A kind of note: its Anki note type and how a question fills its fields."""

    name: str
    id: int
    type_name: str
    fields: tuple[NoteField, ...]
    templates: tuple[Template, ...]
    cloze: bool = False

    def ordinals(self, texts: Mapping[str, str]) -> tuple[int, ...]:
        """The card template ordinals a note of this kind makes, from its source texts:
        one per template, or for a cloze note one per cloze number (c1 is ordinal 0)."""
        if self.cloze:
            from deckgen.render import cloze_numbers  # the parser, only for cloze notes

            text = texts.get(self.fields[0].source, "")
            return tuple(sorted(n - 1 for n in cloze_numbers(text) if n > 0))
        return tuple(range(len(self.templates)))

    @property
    def field_names(self) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in self.fields)

    @property
    def template_names(self) -> tuple[str, ...]:
        """The template names, in order."""
        return tuple(t.name for t in self.templates)

    def style_hash(self) -> str:
        """A short hash of deckgen's own templates and CSS for this kind: what the lock
        compares to decide whether users' note types need an update. The highlighting CSS
        is covered by its style names, not by the CSS a Pygments version generates."""
        parts = [part for t in self.templates for part in (t.front, t.back)]
        parts += [CARD_CSS, *HIGHLIGHT_STYLES]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


HIGHLIGHT_STYLES = ("default", "github-dark")  # Pygments styles: light, and night mode

_TOPIC = '<div class="topic">{{Topic}}</div>\n'
_EXTRA = '{{#Extra}}\n<section class="extra">{{Extra}}</section>\n{{/Extra}}\n'

BASIC = NoteKind(
    name="basic",
    id=1733046101,
    type_name="deckgen Q&A",
    fields=(
        NoteField("Question", "question", Field.INLINE),
        NoteField("Answer", "answer", Field.BLOCK),
        NoteField("How to answer", "how_to_answer", Field.BLOCK),
        NoteField("Example answer", "example_answer", Field.BLOCK),
        NoteField("Topic", "", Field.TOPIC),
        NoteField("ID", "", Field.ID),
    ),
    templates=(
        Template(
            "Question and answer",
            _TOPIC + '<div class="question">{{Question}}</div>\n',
            """\
{{FrontSide}}
<hr id="answer">
<div class="answer">{{Answer}}</div>
{{#How to answer}}
<section class="how-to-answer"><h3>How to answer</h3>{{How to answer}}</section>
{{/How to answer}}
{{#Example answer}}
<section class="example-answer"><h3>Example answer</h3>{{Example answer}}</section>
{{/Example answer}}
""",
        ),
    ),
)

REVERSED = NoteKind(
    name="reversed",
    id=1733046102,
    type_name="deckgen Reversed",
    fields=(
        NoteField("Front", "front", Field.INLINE),
        NoteField("Back", "back", Field.INLINE),
        NoteField("Extra", "extra", Field.BLOCK),
        NoteField("Topic", "", Field.TOPIC),
        NoteField("ID", "", Field.ID),
    ),
    templates=(
        Template(
            "Front to back",
            _TOPIC + '<div class="question">{{Front}}</div>\n',
            '{{FrontSide}}\n<hr id="answer">\n<div class="answer">{{Back}}</div>\n' + _EXTRA,
        ),
        Template(
            "Back to front",
            _TOPIC + '<div class="question">{{Back}}</div>\n',
            '{{FrontSide}}\n<hr id="answer">\n<div class="answer">{{Front}}</div>\n' + _EXTRA,
        ),
    ),
)

CLOZE = NoteKind(
    name="cloze",
    id=1733046103,
    type_name="deckgen Cloze",
    fields=(
        NoteField("Text", "text", Field.CLOZE),
        NoteField("Extra", "extra", Field.BLOCK),
        NoteField("Topic", "", Field.TOPIC),
        NoteField("ID", "", Field.ID),
    ),
    templates=(
        Template(
            "Cloze",
            _TOPIC + '<div class="cloze-text">{{cloze:Text}}</div>\n',
            _TOPIC + '<div class="cloze-text">{{cloze:Text}}</div>\n' + _EXTRA,
        ),
    ),
    cloze=True,
)

TYPE_IN = NoteKind(
    name="type-in",
    id=1733046104,
    type_name="deckgen Type-in",
    fields=(
        NoteField("Question", "question", Field.INLINE),
        NoteField("Answer", "answer", Field.PLAIN),
        NoteField("Extra", "extra", Field.BLOCK),
        NoteField("Topic", "", Field.TOPIC),
        NoteField("ID", "", Field.ID),
    ),
    templates=(
        Template(
            "Type the answer",
            _TOPIC + '<div class="question">{{Question}}</div>\n{{type:Answer}}\n',
            _TOPIC
            + '<div class="question">{{Question}}</div>\n<hr id="answer">\n{{type:Answer}}\n'
            + _EXTRA,
        ),
    ),
)

KINDS = {kind.name: kind for kind in (BASIC, REVERSED, CLOZE, TYPE_IN)}
KINDS_BY_ID = {kind.id: kind for kind in KINDS.values()}
DEFAULT_KIND = BASIC.name

CARD_CSS = """\
.card {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
  font-size: 18px; line-height: 1.5; text-align: left;
  color: #1f2328; background-color: #ffffff;
  max-width: 44em; margin: 0 auto; padding: 0.5em 0.75em;
  overflow-wrap: break-word;
}
.topic { font-size: 0.72em; letter-spacing: 0.06em; text-transform: uppercase; color: #656d76; }
.question { font-size: 1.15em; font-weight: 600; margin: 0.25em 0 0.5em; }
hr#answer { border: 0; border-top: 1px solid #d0d7de; margin: 0.9em 0; }
section h3 {
  font-size: 0.72em; letter-spacing: 0.06em; text-transform: uppercase; color: #656d76;
  margin: 1.4em 0 0.3em;
}
section.extra { margin-top: 0.9em; color: #424a53; }
p { margin: 0.45em 0; }
ul, ol { margin: 0.45em 0; padding-left: 1.4em; }
a { color: #0969da; }
code {
  font-family: ui-monospace, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.86em; padding: 0.1em 0.3em; border-radius: 4px;
  background-color: rgba(129, 139, 152, 0.16);
}
pre.highlight {
  font-size: 0.84em; line-height: 1.4; padding: 0.7em 0.9em; border-radius: 6px;
  overflow-x: auto; white-space: pre; max-width: 100%; box-sizing: border-box;
}
pre.highlight code { padding: 0; background: none; font-size: 1em; white-space: pre; }
/* A table wider than the screen scrolls inside the card instead of running off it. */
table {
  border-collapse: collapse; margin: 0.5em 0;
  display: block; max-width: 100%; width: max-content; overflow-x: auto;
}
img { max-width: 100%; height: auto; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; }
blockquote { margin: 0.5em 0; padding-left: 0.8em; border-left: 3px solid #d0d7de; color: #656d76; }
.cloze { font-weight: 600; color: #0969da; }
.nightMode.card, .night_mode .card { color: #e6edf3; background-color: #0d1117; }
.nightMode .topic, .night_mode .topic, .nightMode section h3, .night_mode section h3,
.nightMode blockquote, .night_mode blockquote { color: #9198a1; }
.nightMode section.extra, .night_mode section.extra { color: #c9d1d9; }
.nightMode hr#answer, .night_mode hr#answer { border-top-color: #3d444d; }
.nightMode a, .night_mode a, .nightMode .cloze, .night_mode .cloze { color: #4493f8; }
.nightMode th, .night_mode th, .nightMode td, .night_mode td { border-color: #3d444d; }
.nightMode pre.highlight, .night_mode pre.highlight { border: 1px solid #3d444d; }
"""
