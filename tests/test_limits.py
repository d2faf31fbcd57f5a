"""Tests for deckgen.limits and the limits the checker applies: each ends in a located error,
quickly, however large or hostile the source."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from conftest import WriteSource
from hypothesis import given, settings
from hypothesis import strategies as st

from deckgen import limits, quickcheck, source, walker
from deckgen.checker import load_deck
from deckgen.errors import DeckgenError, SourceError
from deckgen.limits import (
    MAX_BANK_CHARS,
    MAX_MARKDOWN_DEPTH,
    MAX_PROBLEMS,
    MAX_SOURCE_BYTES,
    MAX_TEXT_CHARS,
    markdown_depth,
    parse_epoch,
)
from deckgen.render import Renderer

HEADER = "deck: {name: D, id: 2059400191}\ntopics:\n  - name: T\n    questions:\n"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SourceError) as raised:
        load_deck(path, name="bank.yaml")
    return [str(problem) for problem in raised.value.problems]


class TestMarkdownDepth:
    @pytest.mark.parametrize(
        ("text", "depth"),
        [
            ("> " * 25 + "x", 25),
            (">" * 25, 25),
            ("- " * 25 + "x", 25),
            ("1. " * 25 + "x", 25),
            ("> - " * 12 + "x", 24),
            ("".join("  " * i + "- x\n" for i in range(25)), 25),
            ("intro\n" + "\t" * 12 + "- x", 25),  # a tab counts as four columns
            ("a\n  >   > d\n" + "> " * 21, 21),
        ],
    )
    def test_deep_lines(self, text: str, depth: int) -> None:
        """Markers and indentation on a line bound its depth."""
        assert markdown_depth(text) == depth

    @pytest.mark.parametrize(
        "text",
        [
            "Plain text with - dashes > and 1. numbers",
            "- a\n  - b\n    - c\n",
            "```\n" + ">" * 40 + "\n```\n",  # code, not quotes
            "~~~~\n" + "- " * 40 + "\n~~~~\n",
            "    " * 20 + "deeply indented code without markers",
            "* * * * * * * * * *",  # a thematic break: at most ten 'levels'
        ],
    )
    def test_real_cards_stay_under_the_limit(self, text: str) -> None:
        """Ordinary Markdown, code included, is far from the limit."""
        assert markdown_depth(text) <= 10

    @pytest.mark.parametrize(
        "text",
        [
            "```x`\n" + ">" * 25,  # a backtick fence's info string has no backtick
            "- a\n  ```\n" + ">" * 25,  # the list item ends, and with it the fence
            "~~~\n~~~\n" + ">" * 25,  # closed
        ],
    )
    def test_false_fences_hide_nothing(self, text: str) -> None:
        """Only a real top-level fence makes lines code."""
        assert markdown_depth(text) >= 25

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["", " ", "  ", "   ", "    ", "\t"]),
                st.lists(st.sampled_from(["> ", ">", "- ", "* ", "1. ", "2) ", "  "]), max_size=8),
                st.sampled_from(["text", "", "```", "~~~", "- x", "> y"]),
            ),
            min_size=1,
            max_size=12,
        )
    )
    def test_bound_is_never_below_the_rendered_depth(
        self, lines: list[tuple[str, list[str], str]]
    ) -> None:
        """Whatever the Markdown, the bound is at least the nesting the renderer builds."""
        text = "\n".join(indent + "".join(markers) + rest for indent, markers, rest in lines)
        html = Renderer().block(text)
        depth = deepest = 0
        for tag in re.finditer(r"<(/?)(blockquote|li)\b", html):
            depth += -1 if tag.group(1) else 1
            deepest = max(deepest, depth)
        if deepest > MAX_MARKDOWN_DEPTH // 2:  # below that, the scan is skipped by design
            assert markdown_depth(text) >= deepest


class TestParseEpoch:
    @pytest.mark.parametrize(("value", "seconds"), [("0", 0), ("1764028800", 1764028800)])
    def test_valid(self, value: str, seconds: int) -> None:
        """Whole seconds from 1970 to the end of 9999 are taken."""
        assert parse_epoch(value) == seconds

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("-1", "must be a whole number of seconds since 1970, not '-1'"),
            ("1.5", "must be a whole number"),
            ("1_000", "must be a whole number"),
            ("\u0661\u0662", "must be a whole number"),  # Arabic-Indic digits
            ("9" * 5000, "must be a whole number"),
            ("253402300800", "must be between 0 and 253402300799"),
            ("99999999999999999999", "must be between 0 and 253402300799"),
        ],
    )
    def test_invalid(self, value: str, message: str) -> None:
        """Anything else is a DeckgenError naming the variable, never a traceback."""
        with pytest.raises(DeckgenError, match=re.escape(f"SOURCE_DATE_EPOCH {message}")):
            parse_epoch(value)

    def test_message_stays_short(self) -> None:
        """A huge value is shortened in the message."""
        with pytest.raises(DeckgenError) as raised:
            parse_epoch("x" * 100_000)
        assert len(str(raised.value)) < 200


SMALL_BANK = 134_217_728  # a bank limit the tests can reach in a second


@pytest.fixture
def small_bank_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bank's limit on text at 128 MiB, so that a test reaches it quickly."""
    monkeypatch.setattr(walker, "MAX_BANK_CHARS", SMALL_BANK)
    monkeypatch.setattr(quickcheck, "MAX_BANK_CHARS", SMALL_BANK)


class TestSourceLimits:
    def test_file_over_the_size_limit(self, tmp_path: Path) -> None:
        """A file past MAX_SOURCE_BYTES is refused from its size, without reading it."""
        path = tmp_path / "big.yaml"
        with path.open("wb") as f:
            f.truncate(MAX_SOURCE_BYTES + 1)  # sparse: no disk space, no time
        assert problems_of(path) == [
            "bank.yaml:1:1: the file is larger than the limit of 2,147,483,648 bytes (2048 MiB)"
        ]

    def test_too_many_nodes(
        self, write_source: WriteSource, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A dense source is refused before it is composed, at the node past the limit (a
        limit of 2,000,000 here, for a file that is quick to write and count)."""
        monkeypatch.setattr(source, "MAX_YAML_NODES", 2_000_000)
        path = write_source("a: [" + "x," * (2_000_000 + 10) + "x]\n")
        started = time.monotonic()
        assert problems_of(path) == [
            "bank.yaml:1:3999999: the file has more than the limit of 2,000,000 YAML values "
            "(texts, lists and mappings)"
        ]
        assert time.monotonic() - started < 30

    def test_node_count_is_exact_for_a_real_bank(
        self, write_source: WriteSource, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Where the cheap bound allows too many nodes, the count is exact: a bank at the
        limit passes and one node more does not."""
        bank = HEADER + "      - {id: q1, question: Why?, answer: Because.}\n"
        path = write_source(bank)
        # The root, 'deck' and its mapping of two, 'topics' and its list, the topic and its
        # two keys, the question and its three: 21.
        nodes = 1 + 2 + 4 + 2 + 1 + 4 + 1 + 6
        monkeypatch.setattr(source, "MAX_YAML_NODES", nodes)
        assert load_deck(path).question_count == 1
        monkeypatch.setattr(source, "MAX_YAML_NODES", nodes - 1)
        assert problems_of(path) == [
            f"bank.yaml:5:42: the file has more than the limit of {nodes - 1} YAML values "
            "(texts, lists and mappings)"
        ]

    def test_text_over_the_limit(self, write_source: WriteSource) -> None:
        """One text longer than MAX_TEXT_CHARS is located at its value."""
        path = write_source(
            HEADER + f"      - {{id: q1, question: Why?, answer: {'x' * 70_000}}}\n"
        )
        assert problems_of(path) == [
            "bank.yaml:5:42: answer is 70,000 characters long, more than the limit of 65,536"
        ]

    def test_expansion_bomb_fails_quickly(
        self, write_source: WriteSource, small_bank_limit: None
    ) -> None:
        """The issue's bomb: a 1 MB answer aliased 3,000 times in a 1.2 MB bank fails
        validation in well under a second or two, at the value and where the expanded
        text passes the limit."""
        lines = [HEADER, f"      - {{id: q0, question: q0, answer: &a {'x' * 1_000_000}}}\n"]
        lines += [f"      - {{id: q{i}, question: q{i}, answer: *a}}\n" for i in range(1, 3000)]
        path = write_source("".join(lines))
        started = time.monotonic()
        problems = problems_of(path)
        assert time.monotonic() - started < 5
        assert problems == [
            "bank.yaml:5:40: answer is 1,000,000 characters long, more than the limit of 65,536",
            "bank.yaml:139:36: the bank's text passes the limit of 134,217,728 characters "
            "here, counting a text each time an alias uses it",
        ]

    @pytest.mark.parametrize(("uses", "valid"), [(2046, True), (2048, False)])
    def test_aliased_tags_and_the_bank_limit(
        self, write_source: WriteSource, uses: int, valid: bool, small_bank_limit: None
    ) -> None:
        """A text of the largest size may be aliased until the bank's text reaches
        MAX_BANK_CHARS; the use that passes it is located (here, the list holding it)."""
        assert (uses + 2) * MAX_TEXT_CHARS == SMALL_BANK + (uses - 2046) * MAX_TEXT_CHARS
        tags = ", ".join(["*t"] * uses)
        path = write_source(
            HEADER.replace("name: T\n", f"name: T\n    tag: &t {'t' * MAX_TEXT_CHARS}\n")
            + f"      - {{id: q1, question: Why?, answer: Because., tags: [{tags}]}}\n"
        )
        if valid:
            assert len(load_deck(path).topics[0].questions[0].tags) == uses
        else:
            assert problems_of(path) == [
                "bank.yaml:6:58: the bank's text passes the limit of 134,217,728 characters "
                "here, counting a text each time an alias uses it"
            ]

    def test_problems_stop_at_the_limit(self, write_source: WriteSource) -> None:
        """A source with thousands of problems lists the first MAX_PROBLEMS, then says so."""
        path = write_source("".join(f"k{i}: x\n" for i in range(5000)))
        problems = problems_of(path)
        assert len(problems) == MAX_PROBLEMS + 1
        assert problems[-2:] == [
            "bank.yaml:1000:1: stopped after 1,000 problems (the limit): fix these and run again",
            "bank.yaml:1000:1: unknown key 'k999' in the file",
        ]


def test_limits_are_consistent() -> None:
    """Aliases may not make a bank larger than the largest source could be."""
    assert MAX_BANK_CHARS >= MAX_SOURCE_BYTES
    assert MAX_TEXT_CHARS < MAX_BANK_CHARS


def test_readme_lists_every_limit() -> None:
    """The README's Limits section gives the value of every limit."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Limits") : readme.index("### Validation output")]
    missing = [
        name
        for name, value in vars(limits).items()
        if name.startswith(("MAX_", "MIN_", "RATIO_"))
        and f"{value:,}" not in section
        and not (value % 2**20 == 0 and f"{value // 2**20} MiB" in section)
    ]
    assert missing == []
