"""deckgen.incremental: checking a bank again around an edit gives what a full check gives,
or nothing (and then the build checks the whole bank)."""

from __future__ import annotations

import random
from dataclasses import astuple
from pathlib import Path

import pytest
from conftest import ROOT

from deckgen.incremental import BankIndex, index_bank, recheck
from deckgen.quickcheck import quick_load


def sample_bank(topics: int = 4, per_topic: int = 6) -> str:
    """A bank with the styles of YAML a user writes: block, folded, quoted and plain
    multi-line texts, flow and block tag lists, comments, blank lines, other kinds."""
    lines = ["deck:", "  name: Sample", "  id: 1900000123", "topics:"]
    for t in range(topics):
        lines += [f"  - name: Topic {t}", "    questions:"]
        for q in range(per_topic):
            n = t * per_topic + q
            lines.append(f"      - id: q-{n}")
            style = n % 5
            if style == 0:
                lines += [
                    f"        question: What is thing {n}?",
                    "        answer: |",
                    f"          Thing {n} is a thing.",
                    "",
                    "          ```python",
                    f"          print({n})",
                    "          ```",
                    "        tags: [alpha, beta]",
                ]
            elif style == 1:
                lines += [
                    f'        question: "Why does {n} matter?"',
                    "        answer: >",
                    f"          Because {n}",
                    "          folds onto one line.",
                    "        tags:",
                    "          - gamma",
                    "  # a comment at the left",
                ]
            elif style == 2:
                lines += [
                    "        kind: cloze",
                    f"        text: The answer to {n} is {{{{c1::{n * 2}}}}}.",
                    "",
                ]
            elif style == 3:
                lines += [
                    f"        question: How many {n}",
                    "          lines does a plain text take?",
                    f"        answer: 'Two, {n}.'",
                    "        retired: false",
                ]
            else:
                lines += [
                    "        kind: reversed",
                    f"        front: term-{n}",
                    f"        back: meaning of {n}",
                ]
    return "\n".join(lines) + "\n"


def full(data: bytes, folder: Path) -> BankIndex | None:
    return index_bank(data, file="bank.yaml", folder=folder)[1]


def same_index(a: BankIndex, b: BankIndex) -> bool:
    """Everything a later edit relies on, and the deck itself."""
    fields = ("lines", "nodes", "chars", "fronts", "topic_of", "first", "columns", "ends")
    return a.deck == b.deck and all(getattr(a, f) == getattr(b, f) for f in fields)


def check_edit(old: bytes, new: bytes, folder: Path) -> BankIndex | None:
    """Recheck ``new`` after ``old``: if it answers, it must be what a full check gives."""
    before = full(old, folder)
    assert before is not None
    result = recheck(before, new, file="bank.yaml", folder=folder)
    expected = quick_load(new, file="bank.yaml", folder=folder)
    if result is None:
        return None
    assert expected is not None, "the recheck took a bank the full check refuses"
    index, edit = result
    whole = full(new, folder)
    assert whole is not None
    assert same_index(index, whole)
    assert edit.start <= edit.new_stop
    assert edit.start <= edit.old_stop
    return index


def test_an_edited_answer_is_read_again_alone(tmp_path: Path) -> None:
    old = sample_bank().encode()
    new = old.replace(b"Thing 12 is a thing.", b"Thing 12 is a thing, edited.")
    index = check_edit(old, new, tmp_path)
    assert index is not None
    before = full(old, tmp_path)
    assert before is not None
    result = recheck(before, new, file="bank.yaml", folder=tmp_path)
    assert result is not None
    _, edit = result
    assert edit.old_stop - edit.start <= 3  # the question, and one on each side


def test_lines_added_move_every_later_question(tmp_path: Path) -> None:
    old = sample_bank().encode()
    new = old.replace(b"Thing 5 is a thing.", b"Thing 5 is a thing.\n\n          More.\n")
    index = check_edit(old, new, tmp_path)
    assert index is not None
    assert index.deck.topics[-1].questions[-1].line > 2  # moved, and equal to a full check


def test_a_question_added_and_one_removed(tmp_path: Path) -> None:
    old = sample_bank()
    added = old.replace(
        "      - id: q-7\n",
        "      - id: new-one\n        question: Is this new?\n        answer: Yes.\n"
        "      - id: q-7\n",
    )
    assert check_edit(old.encode(), added.encode(), tmp_path) is not None
    start = old.index("      - id: q-8\n")
    end = old.index("      - id: q-9\n")
    removed = old[:start] + old[end:]
    assert check_edit(old.encode(), removed.encode(), tmp_path) is not None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"- id: q-9\n", b"- id: q-3\n"),  # a duplicate id
        (b"question: What is thing 10?", b"question: What is thing 0?"),  # duplicate text
        (b"answer: 'Two, 3.'", b"answer: 'Two, 3."),  # an unclosed quote
        (b"        answer: |\n          Thing 5", b"        answer: |\n        Thing 5"),
        (b"  - name: Topic 1\n", b"  - name: Topic 0\n"),  # outside the questions
        (b"      - id: q-6\n", b"      - id: q-6\n        colour: red\n"),  # unknown key
        (b"front: term-4", b"front: &a term-4"),  # an anchor: the quick checker gives up
    ],
)
def test_an_edit_it_cannot_vouch_for_is_left_to_the_full_check(
    tmp_path: Path, before: bytes, after: bytes
) -> None:
    old = sample_bank().encode()
    assert old.count(before) >= 1
    new = old.replace(before, after, 1)
    index = full(old, tmp_path)
    assert index is not None
    assert recheck(index, new, file="bank.yaml", folder=tmp_path) is None


def test_banks_it_does_not_index(tmp_path: Path) -> None:
    """Line breaks other than LF, and a question whose dash has a line of its own."""
    text = sample_bank()
    assert full(text.replace("\n", "\r\n").encode(), tmp_path) is None
    assert full(text.replace("thing.", "thing\u2028.").encode(), tmp_path) is None
    dashless = text.replace("      - id: q-3\n", "      -\n        id: q-3\n")
    deck, index = index_bank(dashless.encode(), file="bank.yaml", folder=tmp_path)
    assert index is None
    assert deck is not None


def test_a_file_without_a_final_line_break(tmp_path: Path) -> None:
    old = sample_bank().rstrip("\n").encode()
    last = old.rindex(b"Two,")
    new = old[:last] + b"new " + old[last:]
    before = full(old, tmp_path)
    assert before is not None
    # The last question's end is the file's: it is never read again in part.
    assert recheck(before, new, file="bank.yaml", folder=tmp_path) is None
    assert quick_load(new, file="bank.yaml", folder=tmp_path) is not None
    earlier = old.replace(b"Thing 0 is", b"Thing zero is")
    assert check_edit(old, earlier, tmp_path) is not None


def test_a_changed_media_file_is_a_full_check(tmp_path: Path) -> None:
    (tmp_path / "pic.png").write_bytes((ROOT / "tests/data/media/img/flow.png").read_bytes())
    old = sample_bank().replace("Thing 0 is a thing.", "Thing 0 is ![a pixel](pic.png).")
    index = full(old.encode(), tmp_path)
    assert index is not None
    assert index.media
    same = old.replace("Thing 12 is", "Thing twelve is").encode()
    assert recheck(index, same, file="bank.yaml", folder=tmp_path) is not None
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert recheck(index, same, file="bank.yaml", folder=tmp_path) is None


def test_the_fastapi_bank(tmp_path: Path) -> None:
    source = ROOT / "questions.yaml"
    old = source.read_bytes()
    at = old.index(b"answer: |\n", len(old) // 2) + len(b"answer: |\n")
    end = old.index(b"\n", at)  # the end of the answer's first line
    new = old[:end] + b" Edited." + old[end:]
    assert check_edit(old, new, ROOT) is not None


def test_random_edits_agree_with_a_full_check(tmp_path: Path) -> None:
    """Hundreds of small random edits (characters typed, lines deleted or copied, indents
    changed): whenever the recheck answers, it is exactly the full check's deck and index."""
    rng = random.Random(20261125)
    old = sample_bank(3, 5)
    answered = 0
    pieces = ["x", " ", "\n", "- ", ": ", "'", '"', "#", "  ", "id: q-1\n", "{{c1::a}}", "é"]
    for _ in range(400):
        lines = old.splitlines(keepends=True)
        n = rng.randrange(len(lines))
        action = rng.randrange(4)
        if action == 0:
            at = rng.randrange(len(lines[n]) + 1)
            lines[n] = lines[n][:at] + rng.choice(pieces) + lines[n][at:]
        elif action == 1:
            del lines[n]
        elif action == 2:
            lines.insert(n, lines[rng.randrange(len(lines))])
        else:
            lines[n] = lines[n][1:] if lines[n].startswith(" ") else " " + lines[n]
        new = "".join(lines)
        if check_edit(old.encode(), new.encode(), tmp_path) is not None:
            answered += 1
    assert answered > 100  # most edits that keep the bank valid are taken


def test_an_unchanged_bank_is_the_same_index(tmp_path: Path) -> None:
    data = sample_bank().encode()
    index = full(data, tmp_path)
    assert index is not None
    result = recheck(index, data, file="bank.yaml", folder=tmp_path)
    assert result is not None
    assert result[0] is index
    assert astuple(result[1]) == (len(index.lines),) * 3


def test_a_chain_of_edits_each_from_the_last_index(tmp_path: Path) -> None:
    """As in a watch session: every recheck starts from the index the previous one gave."""
    rng = random.Random(7)
    text = sample_bank(3, 5)
    index = full(text.encode(), tmp_path)
    assert index is not None
    taken = 0
    for step in range(60):
        lines = text.splitlines(keepends=True)
        answers = [i for i, line in enumerate(lines) if line.startswith("          Thing")]
        n = rng.choice(answers)
        if step % 3 == 0:
            lines.insert(n + 1, lines[n])  # a line more
        else:
            lines[n] = lines[n].rstrip("\n") + f" edit {step}\n"
        new = "".join(lines)
        result = recheck(index, new.encode(), file="bank.yaml", folder=tmp_path)
        whole = full(new.encode(), tmp_path)
        if result is None:
            index = whole  # what a build does: check in full, index again
        else:
            assert whole is not None
            assert same_index(result[0], whole)
            index = result[0]
            taken += 1
        assert index is not None
        text = new
    assert taken >= 50
