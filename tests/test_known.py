"""deckgen.render.known: the HTML of code blocks taken from a note's previous fields is the
HTML highlighting them writes, and a build that uses it loads no lexer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

from deckgen.checker import load_deck
from deckgen.notes import _render, learn_code, render_source
from deckgen.render import Renderer, known
from deckgen.render import code as code_module


@pytest.fixture(autouse=True)
def forget() -> Iterator[None]:
    known.KNOWN_CODE.clear()
    yield
    known.KNOWN_CODE.clear()


def no_lexer(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> None:
        raise AssertionError(f"a lexer was loaded for {name}")

    monkeypatch.setattr(code_module, "_lexer", refuse)


def test_every_code_block_of_the_fastapi_bank_is_learnt_exactly() -> None:
    deck = load_deck(ROOT / "questions.yaml")
    learnt = 0
    renderer = Renderer()
    for topic, question in deck.questions:
        source = render_source(topic, question)
        fields = _render(source, renderer)
        learnt += learn_code(source, fields)
    assert learnt >= 20  # the bank's fenced code blocks, cloze fields included
    for (code, language, cloze), html in known.KNOWN_CODE.items():
        assert html == code_module.highlight_block(code, language, cloze=cloze)


def test_an_edited_prose_renders_from_known_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Intro.\n\n```python\nx = {'a': 1}\n```\n\n- item\n\n```js\nlet y = 2;\n```"
    renderer = Renderer()
    source = ("basic", "T", "q", {"question": "Q?", "answer": text}, None)
    fields = _render(source, renderer)
    assert learn_code(source, fields) == 2
    edited = (
        "basic",
        "T",
        "q",
        {"question": "Q?", "answer": text.replace("Intro", "Edited")},
        None,
    )
    with monkeypatch.context() as patch:
        no_lexer(patch)
        remembered = _render(edited, renderer)
    known.KNOWN_CODE.clear()
    assert remembered == _render(edited, renderer)


def test_fields_that_do_not_match_teach_nothing() -> None:
    text = "```python\nx = 1\n```"
    source = ("basic", "T", "q", {"question": "Q?", "answer": text}, None)
    fields = _render(source, Renderer())
    tampered = (fields[0], fields[1].replace("x", "y"), *fields[2:])
    assert learn_code(source, tampered) == 0
    wrong_around = (fields[0], "<p>other</p>" + fields[1], *fields[2:])
    assert learn_code(source, wrong_around) == 0
    assert not known.KNOWN_CODE


def test_a_rebuild_after_editing_prose_loads_no_lexer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build state's rebuild of a note whose code did not change."""
    from deckgen.build import build

    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(tmp_path / "cache"))
    bank = tmp_path / "bank.yaml"
    text = (ROOT / "questions.yaml").read_text(encoding="utf-8")
    bank.write_text(text, encoding="utf-8")
    build(bank, output=tmp_path / "a.apkg", now=1_800_000_000)
    marker = "- Decorate a function with the HTTP method and path"
    assert marker in text
    bank.write_text(text.replace(marker, marker + " (edited)"), encoding="utf-8")
    lock = bank.with_suffix(".lock").read_bytes()
    with monkeypatch.context() as patch:
        no_lexer(patch)
        build(bank, output=tmp_path / "a.apkg", now=1_800_000_100)
    twin = tmp_path / "twin" / "bank.yaml"
    twin.parent.mkdir()
    twin.write_bytes(bank.read_bytes())
    twin.with_suffix(".lock").write_bytes(lock)
    known.KNOWN_CODE.clear()
    build(twin, output=tmp_path / "b.apkg", now=1_800_000_100, cache=False)
    assert (tmp_path / "a.apkg").read_bytes() == (tmp_path / "b.apkg").read_bytes()
