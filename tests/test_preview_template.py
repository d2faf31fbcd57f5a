"""The preview's renderer of Anki's card templates against Anki's own backend: every card
of real banks, and template constructs and clozes beyond what deckgen's kinds use, must give
byte for byte the HTML of ``card.question()`` and ``card.answer()``.

Anki puts ``<style>`` with the note type's CSS before each side; the preview keeps the CSS
apart, so the comparison takes it off (and checks it is the package's CSS).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from anki.cards import Card
from anki.collection import Collection
from anki.models import NotetypeDict
from anki.sound import SoundOrVideoTag
from conftest import DATA, ROOT, ImportPackage

from deckgen.build import build
from deckgen.checker import load_deck
from deckgen.preview.cards import card_css, preview_cards
from deckgen.preview.cloze import cloze_numbers, encode_attribute
from deckgen.preview.reviewer import TypeField, shown_sides
from deckgen.preview.template import TemplateError, parse_template, render_card

T1 = 1_700_000_000
BANKS = {
    "fastapi": ROOT / "questions.yaml",
    "kinds": DATA / "valid" / "kinds.yaml",
    "media": DATA / "media" / "bank.yaml",
    "wide": DATA / "layout" / "wide.yaml",
}


def without_style(html: str, css: str) -> str:
    """One side of a card as Anki renders it, less the ``<style>`` Anki puts first."""
    head = f"<style>{css}</style>"
    assert html.startswith(head)
    return html[len(head) :]


def anki_cards(
    bank: Path, tmp_path: Path, import_package: ImportPackage, collection: Collection
) -> dict[tuple[str, int], Card]:
    """Every card of ``bank``, built by deckgen and imported into Anki, by question id and
    ordinal."""
    shutil.copytree(bank.parent, tmp_path / "bank")
    source = tmp_path / "bank" / bank.name
    for stale in source.parent.glob("*.lock"):
        stale.unlink()
    import_package(build(source, output=tmp_path / "deck.apkg", now=T1).path)
    cards = {}
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        cards[card.note()["ID"], card.ord] = card
    return cards


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_every_card_renders_as_in_anki(
    bank: str, tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """Every card of a bank, both sides, is what Anki's backend renders for the built
    package, and the sounds of each side are the ones Anki plays."""
    cards = anki_cards(BANKS[bank], tmp_path, import_package, collection)
    previewed = preview_cards(load_deck(BANKS[bank]))
    assert sorted((c.question_id, c.ordinal) for c in previewed) == sorted(cards)
    for card in previewed:
        anki = cards[card.question_id, card.ordinal]
        css = card_css_of(anki)
        assert css == card_css_for(card.kind)
        assert card.sides is not None, card.error
        assert card.sides.question == without_style(anki.question(), css)
        assert card.sides.answer == without_style(anki.answer(), css)
        assert card.sides.question_sounds == sounds(anki.question_av_tags())
        assert card.sides.answer_sounds == sounds(anki.answer_av_tags())


def card_css_for(kind: str) -> str:
    from deckgen.notetypes import KINDS

    return card_css(KINDS[kind])


def card_css_of(card: Card) -> str:
    return str(card.note_type()["css"])


def sounds(tags: list[Any]) -> tuple[str, ...]:
    return tuple(tag.filename for tag in tags if isinstance(tag, SoundOrVideoTag))


def test_reviewer_answer_box_uses_the_fields_font(
    tmp_path: Path, collection: Collection, import_package: ImportPackage
) -> None:
    """The answer box and the expected answer carry the font and size Anki's note type has
    for the field, as the reviewer writes them."""
    cards = anki_cards(BANKS["kinds"], tmp_path, import_package, collection)
    anki = cards["len-builtin", 0]
    fonts = {f["name"]: TypeField(anki.note()[f["name"]], f["font"], f["size"]) for f in flds(anki)}
    css = card_css_of(anki)
    front, back = shown_sides(
        without_style(anki.question(), css),
        without_style(anki.answer(), css),
        sounds={},
        fields=fonts,
        ordinal=0,
    )
    (card,) = [
        c for c in preview_cards(load_deck(BANKS["kinds"])) if c.question_id == "len-builtin"
    ]
    assert (card.front, card.back) == (front, back)
    assert "<input type=text id=typeans" in front
    assert "font-family: 'Liberation Sans'; font-size: 20px" in front
    assert "<code id=typeans>len</code>" in back


def flds(card: Card) -> list[dict[str, Any]]:
    notetype: NotetypeDict = card.note_type()
    return list(notetype["flds"])


# Templates and fields beyond deckgen's kinds, each rendered by Anki from a note type made
# in the collection: (question template, answer template, fields, cloze).
CASES: dict[str, tuple[str, str, dict[str, str], bool]] = {
    "negated section": (
        "{{^Extra}}no extra{{/Extra}}{{#Extra}}has extra{{/Extra}}{{Front}}",
        "{{FrontSide}}<hr id=answer>{{Back}}",
        {"Front": "F", "Back": "B", "Extra": ""},
        False,
    ),
    "empty-looking field": (
        "{{#Extra}}shown{{/Extra}}[{{Front}}]",
        "{{FrontSide}}{{^Extra}}hidden{{/Extra}}",
        {"Front": "F", "Back": "B", "Extra": " <br> <div></div>\n"},
        False,
    ),
    "comments and odd handlebars": (
        "<!-- {{Back}} -->{{ Front }}{{{Front}}}{{:Front}}",
        "{{FrontSide}}|{{text:Back}}",
        {"Front": "a &amp; b", "Back": "<b>x</b> &lt;y&gt; &nbsp;z", "Extra": ""},
        False,
    ),
    "special fields": (
        "{{Front}} {{Type}} {{Deck}} {{Subdeck}} {{Card}} {{CardFlag}} {{#c1}}one{{/c1}}",
        "{{FrontSide}}{{Tags}}",
        {"Front": "F", "Back": "B", "Extra": ""},
        False,
    ),
    "unknown filter": (
        "{{unknown:Front}}|{{unknown:text:Back}}",
        "{{FrontSide}}",
        {"Front": "<i>F</i>", "Back": "<i>B</i>", "Extra": ""},
        False,
    ),
    "sounds on both sides": (
        "{{Front}}",
        "{{FrontSide}}{{Back}}",
        {"Front": "a [sound:one.mp3] b", "Back": "[sound:two.mp3][sound:three.ogg]", "Extra": ""},
        False,
    ),
    "nested clozes and hints": (
        "{{cloze:Text}}",
        "{{cloze:Text}}<br>{{cloze-only:Text}}",
        {"Text": "{{c1::a {{c2::b::hint}} c}} {{c2::d}} {{c1,3::e}} }} {{c::f}}", "Extra": ""},
        True,
    ),
    "cloze inside math": (
        "{{cloze:Text}}",
        "{{cloze:Text}}",
        {"Text": r"\(x + {{c1::<b>y</b>}}\) and \[{{c2::z}}\] {{c1::'q' & \"r\"}}", "Extra": ""},
        True,
    ),
    "unclosed cloze": (
        "{{cloze:Text}}",
        "{{cloze:Text}}{{type:cloze:Text}}",
        {"Text": "{{c1::a {{c2::b}} c}} then {{c3::never closed {{c2::x}}", "Extra": ""},
        True,
    ),
}


def anki_note_type(collection: Collection, qfmt: str, afmt: str, *, cloze: bool) -> NotetypeDict:
    models = collection.models
    notetype = models.new("preview test cloze" if cloze else "preview test")
    names = ["Text", "Extra"] if cloze else ["Front", "Back", "Extra"]
    for name in names:
        models.add_field(notetype, models.new_field(name))
    template = models.new_template("Card 1")
    template["qfmt"], template["afmt"] = qfmt, afmt
    models.add_template(notetype, template)
    if cloze:
        notetype["type"] = 1  # MODEL_CLOZE
    models.add(notetype)
    return models.by_name(notetype["name"]) or notetype


@pytest.mark.parametrize("case", sorted(CASES))
def test_template_constructs_render_as_in_anki(case: str, collection: Collection) -> None:
    """Sections, negation, empty fields, comments, special fields, unknown filters, sounds
    and clozes (nested, with hints, several numbers, inside math, unclosed) as Anki renders
    them."""
    qfmt, afmt, fields, cloze = CASES[case]
    notetype = anki_note_type(collection, qfmt, afmt, cloze=cloze)
    note = collection.new_note(notetype)
    for name, value in fields.items():
        note[name] = value
    note.tags = ["one", "two::three"]
    collection.add_note(note, collection.decks.id("Parent::Child"))
    cards = note.cards()
    assert cards
    for card in cards:
        names = tuple(fields)
        special = {
            "Tags": "one two::three",
            "Type": notetype["name"],
            "Deck": "Parent::Child",
            "Subdeck": "Child",
            "Card": "Card 1",
            "CardFlag": "flag0",
        }
        values = {**dict(zip(names, (note[n] for n in names), strict=True)), **special}
        sides = render_card(qfmt, afmt, values, ordinal=card.ord, cloze=cloze)
        css = card_css_of(card)
        assert sides.question == without_style(card.question(), css)
        assert sides.answer == without_style(card.answer(), css)
        assert sides.question_sounds == sounds(card.question_av_tags())
        assert sides.answer_sounds == sounds(card.answer_av_tags())


class TestTemplateErrors:
    def test_unclosed_section(self) -> None:
        """A section never closed is an error, as in Anki."""
        with pytest.raises(TemplateError, match="never closed"):
            parse_template("{{#Front}}x")

    def test_wrong_close(self) -> None:
        """A close that does not match the open section is an error."""
        with pytest.raises(TemplateError, match="not open"):
            parse_template("{{#Front}}x{{/Back}}")

    def test_unknown_field(self) -> None:
        """A replacement of a field the note does not have is an error."""
        with pytest.raises(TemplateError, match=r"\{\{text:Nope\}\} names no field"):
            render_card("{{text:Nope}}", "", {"Front": "x"}, ordinal=0, cloze=False)

    def test_blank_front(self) -> None:
        """A front that shows no field is an empty card in Anki."""
        with pytest.raises(TemplateError, match="blank"):
            render_card("{{Front}}", "", {"Front": ""}, ordinal=0, cloze=False)

    def test_missing_cloze(self) -> None:
        """A cloze card whose number the note does not have is an empty card."""
        with pytest.raises(TemplateError, match="no cloze 2"):
            render_card("{{cloze:Text}}", "", {"Text": "{{c1::a}}"}, ordinal=1, cloze=True)

    def test_filters_deckgen_does_not_use(self) -> None:
        """Filters the preview does not implement say so rather than render wrongly."""
        with pytest.raises(TemplateError, match="'hint'"):
            render_card("{{hint:Front}}", "", {"Front": "x"}, ordinal=0, cloze=False)


def test_cloze_numbers_ignore_huge_and_zero() -> None:
    """Numbers past Anki's 16 bits, and c0, make no card; thousands of digits do not crash."""
    assert cloze_numbers("{{c0::a}} {{c65536::b}} {{c" + "9" * 5000 + "::c}} {{c2::d}}") == {2}


def test_attribute_encoding() -> None:
    """The hidden text of a cloze is encoded as Anki's htmlescape crate does it."""
    assert encode_attribute("<a href='x'>é&ü</a> ✓") == (
        "&lt;a&#x20;href&#x3D;&#x27;x&#x27;&gt;&#xE9;&amp;&#xFC;&lt;&#x2F;a&gt;&#x20;✓"
    )
