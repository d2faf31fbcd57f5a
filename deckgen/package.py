"""A validated deck to an Anki package (.apkg); the only module that imports genanki.

What keeps a user's study progress across releases (see the README, "Updating a deck"):
every note's GUID depends only on the deck id and the question id, and the note type has a
fixed id and a frozen list of fields and templates. Anki matches on exactly those.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import genanki

from deckgen.errors import BuildError
from deckgen.model import Deck
from deckgen.render import Renderer, escape, highlight_css

# Never change these: Anki matches the note type by id, and a different list of fields or
# templates makes it add a copy of the note type and refuse to update existing notes.
NOTE_TYPE_ID = 1733046101
NOTE_TYPE_NAME = "deckgen Q&A"
FIELDS = ("Question", "Answer", "How to answer", "Example answer", "Topic", "ID")
TEMPLATE_NAME = "Question and answer"

FRONT = """\
<div class="topic">{{Topic}}</div>
<div class="question">{{Question}}</div>
"""
BACK = """\
{{FrontSide}}
<hr id="answer">
<div class="answer">{{Answer}}</div>
{{#How to answer}}
<section class="how-to-answer"><h3>How to answer</h3>{{How to answer}}</section>
{{/How to answer}}
{{#Example answer}}
<section class="example-answer"><h3>Example answer</h3>{{Example answer}}</section>
{{/Example answer}}
"""
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
  overflow-x: auto; white-space: pre;
}
pre.highlight code { padding: 0; background: none; font-size: 1em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; }
blockquote { margin: 0.5em 0; padding-left: 0.8em; border-left: 3px solid #d0d7de; color: #656d76; }
.nightMode.card, .night_mode .card { color: #e6edf3; background-color: #0d1117; }
.nightMode .topic, .night_mode .topic, .nightMode section h3, .night_mode section h3,
.nightMode blockquote, .night_mode blockquote { color: #9198a1; }
.nightMode hr#answer, .night_mode hr#answer { border-top-color: #3d444d; }
.nightMode a, .night_mode a { color: #4493f8; }
.nightMode th, .night_mode th, .nightMode td, .night_mode td { border-color: #3d444d; }
"""


@dataclass(frozen=True)
class Note:
    """One note as it goes into the package: rendered fields in :data:`FIELDS` order."""

    question_id: str
    guid: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """What a build wrote."""

    path: Path
    notes: int
    cards: int
    topics: int
    size: int


def note_guid(deck_id: int, question_id: str) -> str:
    """The GUID of a question's note: a function of the deck id and question id only."""
    return str(genanki.guid_for(deck_id, question_id))


def make_notes(deck: Deck) -> list[Note]:
    """Render every question of ``deck`` into a note."""
    renderer = Renderer()
    return [
        Note(
            question_id=q.id,
            guid=note_guid(deck.id, q.id),
            fields=(
                renderer.inline(q.question),
                renderer.block(q.answer),
                renderer.block(q.how_to_answer) if q.how_to_answer else "",
                renderer.block(q.example_answer) if q.example_answer else "",
                escape(topic.name),
                q.id,
            ),
            tags=deck.note_tags(topic, q),
        )
        for topic, q in deck.questions
    ]


def note_type() -> genanki.Model:
    """deckgen's own note type, with its fixed id."""
    return genanki.Model(
        NOTE_TYPE_ID,
        NOTE_TYPE_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": TEMPLATE_NAME, "qfmt": FRONT, "afmt": BACK}],
        css=CARD_CSS + highlight_css(),
        sort_field_index=0,
    )


def build_package(deck: Deck, out: Path, *, timestamp: float) -> Summary:
    """Write ``deck`` to ``out`` as an .apkg, atomically; ``timestamp`` becomes every note's
    modification time, which Anki compares to decide whether to update a note."""
    model = note_type()
    description = Renderer().block(deck.description) if deck.description else ""
    package_deck = genanki.Deck(deck.id, deck.name, description=description)
    for note in make_notes(deck):
        package_deck.add_note(
            genanki.Note(
                model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid
            )
        )
    _write_atomically(genanki.Package(package_deck), out, timestamp)
    count = deck.question_count
    return Summary(out, count, count, len(deck.topics), out.stat().st_size)


def _write_atomically(package: genanki.Package, out: Path, timestamp: float) -> None:
    """Write to a temporary file beside ``out``, then rename it: ``out`` is either the old
    file or the complete new one, never half written."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as e:
        raise BuildError(f"cannot write {out}: {e.strerror or e}") from e
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        package.write_to_file(str(tmp), timestamp=timestamp)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp makes the file private; an .apkg is not
        tmp.replace(out)
    except OSError as e:
        raise BuildError(f"cannot write {out}: {e.strerror or e}") from e
    finally:
        tmp.unlink(missing_ok=True)
