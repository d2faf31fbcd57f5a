"""Tests for deckgen.folder: banks in many files, read and checked as one bank."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

import pytest
from conftest import DATA

from deckgen import folder as folder_module
from deckgen import walker
from deckgen.checker import load_deck
from deckgen.errors import DeckgenError, SourceError
from deckgen.folder import topic_files, topic_path_problem
from deckgen.split import bank_difference

FOLDERS = DATA / "folders"
VALID = FOLDERS / "valid"
INVALID_FOLDERS = sorted(p for p in (FOLDERS / "invalid").iterdir() if p.is_dir())
DECK = "deck:\n  name: D\n  id: 2059400330\n"


def problems_of(path: Path, name: str = "bank") -> list[str]:
    with pytest.raises(SourceError) as raised:
        load_deck(path, name=name)
    return [str(problem) for problem in raised.value.problems]


def write_bank(root: Path, files: dict[str, str]) -> Path:
    """Write a folder bank's files (deck.yaml given or the default) under ``root``."""
    for name, text in {"deck.yaml": DECK, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def topic(name: str, *ids: str) -> str:
    questions = "".join(
        f"  - id: {qid}\n    question: What is {qid}?\n    answer: It is {qid}.\n" for qid in ids
    )
    return f"name: {name}\nquestions:\n{questions}"


class TestInvalidFolders:
    @pytest.mark.parametrize("bank", INVALID_FOLDERS, ids=lambda p: p.name)
    def test_exact_problems(self, bank: Path) -> None:
        """Each invalid folder gives exactly the problems in its .expected file, each at its
        own file, line and column."""
        expected = bank.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
        assert problems_of(bank, bank.name) == expected

    def test_every_fixture_has_expectations(self) -> None:
        """No folder fixture is skipped for want of an .expected file."""
        assert len(INVALID_FOLDERS) >= 4
        assert all(p.with_suffix(".expected").exists() for p in INVALID_FOLDERS)

    def test_mistakes_in_several_files_are_all_reported(self) -> None:
        """One run reports the problems of every file, syntax errors included."""
        problems = problems_of(FOLDERS / "invalid" / "nested-mistakes", "n")
        files = {line.split(":")[0] for line in problems}
        assert files == {
            "n/advanced/deep/broken.yaml",
            "n/advanced/routing.yaml",
            "n/basics.yaml",
            "n/empty.yaml",
            "n/list.yaml",
        }

    def test_folder_without_deck_yaml(self, tmp_path: Path) -> None:
        """A folder without deck.yaml is not a bank, and the error says what is missing."""
        (tmp_path / "topic.yaml").write_text(topic("T", "a"))
        with pytest.raises(DeckgenError) as raised:
            load_deck(tmp_path, name="bank")
        assert str(raised.value) == (
            "bank is a folder without deck.yaml: a bank in many files keeps its deck there and "
            "one topic in each other .yaml file"
        )
        assert not isinstance(raised.value, SourceError)


class TestValidFolder:
    def test_topics_in_path_order(self) -> None:
        """Without a 'topics' list, topic files are read in the order of their paths, nested
        ones included; dot-folders and .yml files are not read."""
        deck = load_deck(VALID)
        assert [t.name for t in deck.topics] == ["Routing", "Basics", "Clozes"]
        assert [q.id for _, q in deck.questions] == [
            "route-picture",
            "route-term",
            "what-is-a-folder-bank",
            "deck-file-name",
            "lock-name",
        ]
        assert [p.relative_to(VALID).as_posix() for p in deck.sources] == [
            "deck.yaml",
            "advanced/routing.yaml",
            "basics.yaml",
            "zz/cloze.yaml",
        ]

    def test_the_deck_is_read_from_deck_yaml(self) -> None:
        """The deck's name, id, description and tags come from deck.yaml."""
        deck = load_deck(VALID)
        assert (deck.name, deck.id, deck.description, deck.tags) == (
            "Folder Bank",
            2059400310,
            "A bank kept in *many* files.",
            ("folders",),
        )

    def test_media_relative_to_the_topic_file(self) -> None:
        """Media paths start at the file that holds them, here a subfolder, and may reach
        anywhere inside the bank's folder."""
        route = load_deck(VALID).topics[0].questions[0]
        assert {url: f.path for url, f in route.media.items()} == {
            "img/route.png": (VALID / "advanced/img/route.png").resolve(),
            "../media/beep.wav": (VALID / "media/beep.wav").resolve(),
        }

    def test_same_deck_as_one_file(self, tmp_path: Path) -> None:
        """A folder bank and the same topics in one file make the same notes."""
        files = {"a.yaml": topic("Alpha", "one", "two"), "b/c.yaml": topic("Beta", "three")}
        folder = write_bank(tmp_path / "bank", files)
        single = tmp_path / "single.yaml"
        items = "".join(
            "  - " + text.replace("\n", "\n    ").rstrip(" ") for text in files.values()
        )
        single.write_text(f"{DECK}topics:\n{items}", encoding="utf-8")
        folder_deck, single_deck = load_deck(folder), load_deck(single)
        assert bank_difference(folder_deck, single_deck) is None
        assert folder_deck.topics[1].questions[0].line == 3  # the line in its own file

    def test_order_from_deck_yaml(self, tmp_path: Path) -> None:
        """deck.yaml's 'topics' list decides the order."""
        files = {
            "deck.yaml": DECK + "topics:\n  - z.yaml\n  - a/b.yaml\n  - m.yaml\n",
            "a/b.yaml": topic("B", "b"),
            "m.yaml": topic("M", "m"),
            "z.yaml": topic("Z", "z"),
        }
        deck = load_deck(write_bank(tmp_path, files))
        assert [t.name for t in deck.topics] == ["Z", "B", "M"]

    def test_a_bank_folder_as_current_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A bank given as '.' names its files without a './' in front."""
        write_bank(tmp_path, {"t.yaml": topic("T", "same", "same")})
        monkeypatch.chdir(tmp_path)
        assert problems_of(Path("."), ".") == [
            "t.yaml:6:9: duplicate question id 'same' (first on line 3)",
            "t.yaml:7:15: duplicate question: also asked on line 4",
        ]

    @pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
    def test_linked_folders_are_not_followed(self, tmp_path: Path) -> None:
        """A folder reached through a symbolic link is not part of the bank (a link to the
        bank's own folder would loop)."""
        bank = write_bank(tmp_path / "bank", {"t.yaml": topic("T", "a")})
        (bank / "loop").symlink_to(bank, target_is_directory=True)
        assert topic_files(bank) == [PurePosixPath("t.yaml")]
        assert load_deck(bank).question_count == 1


class TestDuplicatesAcrossFiles:
    def test_every_duplicate_names_the_first_file(self, tmp_path: Path) -> None:
        """Ids, questions, topic names and topic tags must be unique across the files; a
        duplicate is reported where it is, naming the file and line of the first."""
        bank = write_bank(
            tmp_path / "bank",
            {
                "a.yaml": "name: Alpha\ntag: shared\n" + topic("x", "one").split("\n", 1)[1],
                "b.yaml": "name: ALPHA\ntag: Shared\n" + topic("x", "one").split("\n", 1)[1],
            },
        )
        assert problems_of(bank) == [
            "bank/b.yaml:1:7: duplicate topic 'ALPHA' (first on bank/a.yaml:1)",
            "bank/b.yaml:2:6: topic tag 'Shared' is already used by the topic on bank/a.yaml:2",
            "bank/b.yaml:4:9: duplicate question id 'one' (first on bank/a.yaml:4)",
            "bank/b.yaml:5:15: duplicate question: also asked on bank/a.yaml:5",
        ]

    def test_within_one_file_the_line_is_enough(self, tmp_path: Path) -> None:
        """A duplicate within one topic file says 'line N', as in a bank file."""
        bank = write_bank(tmp_path / "bank", {"a.yaml": topic("A", "one", "two", "one")})
        assert (
            problems_of(bank)[0] == "bank/a.yaml:9:9: duplicate question id 'one' (first on line 3)"
        )


class TestTopicPaths:
    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("a.yaml", None),
            ("sub/deep/a.yaml", None),
            ("sub/deck.yaml", None),
            ("./a.yaml", "must be a plain path inside the bank's folder"),
            ("a//b.yaml", "must be a plain path inside the bank's folder"),
            ("/a.yaml", "must be a plain path inside the bank's folder"),
            ("a/../b.yaml", "must be a plain path inside the bank's folder"),
            (".github/a.yaml", "is hidden"),
            ("a.yml", "must end in .yaml"),
            ("deck.yaml", "holds the deck"),
            ("a\\b.yaml", "write paths with '/'"),
        ],
    )
    def test_paths(self, value: str, problem: str | None) -> None:
        """deck.yaml lists plain relative paths of .yaml files outside dot-folders."""
        found = topic_path_problem(value)
        assert (found is None) if problem is None else (found is not None and problem in found)


class TestWholeBankLimits:
    """The limits of one source apply to the whole bank, summed over its files."""

    def test_bytes(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The file in which the bank passes the size limit is named; later files are not
        read."""
        bank = write_bank(tmp_path / "bank", {"a.yaml": topic("A", "a"), "b.yaml": topic("B", "b")})
        sizes = [len(DECK), len(topic("A", "a")), len(topic("B", "b"))]
        monkeypatch.setattr(folder_module, "MAX_SOURCE_BYTES", sum(sizes))
        assert load_deck(bank).question_count == 2
        monkeypatch.setattr(folder_module, "MAX_SOURCE_BYTES", sum(sizes) - 1)
        assert problems_of(bank) == [
            f"bank/b.yaml:1:1: the bank's files are together larger than the limit of "
            f"{sum(sizes) - 1:,} bytes (0 MiB)"
        ]

    def test_yaml_values(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Values are counted exactly once the cheap bound passes the limit: a bank at the
        limit passes, one value more fails in the file where it passes."""
        bank = write_bank(tmp_path / "bank", {"a.yaml": topic("A", "a"), "b.yaml": topic("B", "b")})
        # deck.yaml: root, 'deck', its mapping, two pairs (7); a topic: root, two pairs,
        # the list, the question and its three pairs (12).
        nodes = 7 + 12 + 12
        monkeypatch.setattr(folder_module, "MAX_YAML_NODES", nodes)
        assert load_deck(bank).question_count == 2
        monkeypatch.setattr(folder_module, "MAX_YAML_NODES", nodes - 1)
        assert problems_of(bank) == [
            f"bank/b.yaml:5:13: the bank has more than the limit of {nodes - 1} YAML values "
            "(texts, lists and mappings) in its files together"
        ]

    def test_text(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The bank's text is counted over every file."""
        bank = write_bank(tmp_path / "bank", {"a.yaml": topic("A", "a"), "b.yaml": topic("B", "b")})
        monkeypatch.setattr(walker, "MAX_BANK_CHARS", 40)
        assert problems_of(bank) == [
            "bank/b.yaml:5:13: the bank's text passes the limit of 40 characters here, "
            "counting a text each time an alias uses it"
        ]

    def test_problems(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The checker stops at the limit of problems, whichever files they are in."""
        files = {f"{n}.yaml": "name: T\nquestions: []\nx: 1\n" for n in "abc"}
        bank = write_bank(tmp_path / "bank", files)
        monkeypatch.setattr(walker, "MAX_PROBLEMS", 4)
        problems = problems_of(bank)
        assert problems[-1] == "bank/b.yaml:3:1: unknown key 'x' in the topic file"
        assert "stopped after 4 problems" in problems[-2]
        assert len(problems) == 5


def test_sources_of_a_bank_file(tmp_path: Path) -> None:
    """A bank in one file has that file as its one source."""
    path = tmp_path / "bank.yaml"
    shutil.copy(DATA / "valid" / "small.yaml", path)
    assert load_deck(path).sources == (path,)


class TestPartialCheck:
    """What the preview and watch show of a folder bank that has problems."""

    def test_valid_questions_of_a_broken_folder_still_show(self) -> None:
        """Problems come from every file; the questions without one are kept."""
        from deckgen.checker import check_deck

        folder = DATA / "folders" / "invalid" / "nested-mistakes"
        deck, problems = check_deck(folder, name="bank")
        assert deck is not None
        assert [(t.name, [q.id for q in t.questions]) for t in deck.topics] == [
            ("Routing", ["first"])
        ]
        assert {p.file for p in problems} >= {"bank/basics.yaml", "bank/advanced/routing.yaml"}
        assert problems == sorted(problems)

    def test_a_broken_deck_file_keeps_the_topics(self) -> None:
        """When only deck.yaml is wrong, its topics show under a stand-in deck."""
        from deckgen.checker import check_deck

        deck, problems = check_deck(DATA / "folders" / "invalid" / "deck-mistakes", name="b")
        assert deck is not None
        assert (deck.id, [q.id for _, q in deck.questions]) == (0, ["fine"])
        assert {p.file for p in problems} == {"b/deck.yaml"}
