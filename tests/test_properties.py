"""Property-based tests (Hypothesis): random and mutated banks against the command line's
contract. Whatever the source, validate and build exit 0, 1 or 2, never with a traceback,
finish in bounded time, and a build that fails writes nothing."""

from __future__ import annotations

import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner, Result
from conftest import ROOT, SMALL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deckgen.cli import main

BANKS = [SMALL.read_text(encoding="utf-8"), (ROOT / "questions.yaml").read_text(encoding="utf-8")]
SECONDS_PER_COMMAND = 20
TAGS = ["!!str ", "!!int ", "!!bool ", "!!null ", "!!float ", "!!seq ", "!!map ", "!!binary "]
TAGS += ["!!python/object:os.system ", "!custom ", "!!timestamp "]
# Values a hostile bank puts where text, a number or a list is expected.
VALUES = ["[a]", "{a: b}", "[]", "{}", "~", "''", "yes", "12", "1.5", "2001-12-14", "0x1F"]
VALUES += ["!!str [a]", "!!str {a: b}", "!!int abc", "!!bool maybe", "!!seq x", "!!map x"]
VALUES += ["!!null x", "!!float x", "&a [a]", "*a", "*b", "&a x", "<<: *a", "9" * 5000, "-1"]
# Fixed, modest and reproducible: CI sees the same examples on every run.
PROFILE = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


KEY_LINE = re.compile(r" *(?:- )?[a-z_]+:(?: |$)")
# A YAML tag on a value of some shape: every pairing of the two, fitting or not.
tagged_value = st.builds(
    "{}{}".format,
    st.sampled_from(TAGS),
    st.sampled_from(["[a]", "{a: b}", "x", "'1'", "", "12", "true", "[[a]]"]),
)


@st.composite
def mutated_bank(draw: st.DrawFn) -> bytes:
    """One of the valid banks after a few edits of the kinds a hostile contributor makes."""
    lines = draw(st.sampled_from(BANKS)).split("\n")
    # Lines are picked at random, not by Hypothesis's choices, which favour the first ones.
    pick = draw(st.randoms(use_true_random=False)).choice
    for number in range(draw(st.integers(1, 4))):
        keyed = [i for i, line in enumerate(lines) if KEY_LINE.match(line)] or [0]
        # The first edit changes what a key holds; the others may be anything.
        edit = draw(st.sampled_from(["value", "tag", "anchor", "alias", "nest"]))
        if number and draw(st.booleans()):
            edit = draw(st.sampled_from(["delete", "duplicate", "swap", "text", "cut"]))
        at = pick(keyed if edit in ("value", "tag", "nest") else range(len(lines)))
        line = lines[at]
        if edit == "delete" and len(lines) > 1:
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, line)
        elif edit == "swap":
            other = pick(range(len(lines)))
            lines[at], lines[other] = lines[other], line
        elif edit == "text":
            column = draw(st.integers(0, len(line)))
            insert = draw(
                st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=12)
            )
            lines[at] = line[:column] + insert + line[column:]
        elif edit == "cut":
            lines = lines[: at + 1]
        elif edit in ("value", "nest") and ":" in line:
            key = line.split(":", 1)[0]
            if edit == "value":
                value = draw(st.one_of(tagged_value, st.sampled_from(VALUES)))
            else:
                marker = draw(st.sampled_from(["> ", "- ", "1. ", "> - "]))
                value = f"'{marker * draw(st.integers(1, 60))}deep'"
            lines[at] = f"{key}: {value}"
            # The lines that belonged to the old value (a block scalar, list or mapping)
            # go with it, or they would only make a syntax error.
            indent = len(line) - len(line.lstrip(" -"))
            while at + 1 < len(lines) and (
                not lines[at + 1].strip()
                or len(lines[at + 1]) - len(lines[at + 1].lstrip(" ")) > indent
            ):
                del lines[at + 1]
        elif edit in ("tag", "anchor", "alias"):
            # Where a node starts: after "key: ", after "- ", or at the end of "key:" (the
            # node is then the list or mapping on the lines below).
            slots = [i + 2 for i in (line.find(": "), line.find("- ")) if i >= 0]
            slots += [len(line)] if line.endswith(":") else []
            if slots:
                slot = draw(st.sampled_from(slots))
                extra = {"tag": draw(st.sampled_from(TAGS)), "anchor": "&a ", "alias": "*a"}
                head = line[:slot] + ("" if slot < len(line) else " ") + extra[edit]
                lines[at] = head + ("" if edit == "alias" else line[slot:])
    text = "\n".join(lines).encode()
    if draw(st.integers(0, 7)) == 7:  # stray bytes, valid UTF-8 or not (rarely: they stop
        # validation at the first bad byte, before the checks that come after)
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(max_size=8)) + text[at:]
    return text


yaml_noise = st.text(st.sampled_from(list("-:[]{},?&*!|>'\"#%@` \n\tabc12")), max_size=200).map(
    str.encode
)


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail, rather than hang, when a command runs past ``seconds``."""

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError(f"the command ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(*args: str) -> Result:
    with time_limit(SECONDS_PER_COMMAND):
        result = CliRunner().invoke(main, list(args), env={"SOURCE_DATE_EPOCH": "1764028800"})
    assert result.exit_code in (0, 1, 2), result.output
    # click's own exits (usage errors, ClickException) are SystemExit; anything else escaped.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


def check_contract(source: bytes) -> None:
    """validate and build agree, and a failed build leaves nothing behind."""
    with tempfile.TemporaryDirectory() as folder:
        bank = Path(folder) / "bank.yaml"
        bank.write_bytes(source)
        out, lock = Path(folder) / "out" / "bank.apkg", Path(folder) / "bank.lock"
        validated = run("validate", str(bank))
        built = run("build", str(bank), "-o", str(out), "--lock", str(lock))
        assert bank.read_bytes() == source
        if validated.exit_code == 0:
            assert built.exit_code == 0, built.output
            assert out.is_file()
        else:
            assert validated.stderr.startswith(f"{bank}:") or validated.stderr.startswith("Error")
            assert built.exit_code == validated.exit_code
            assert not out.exists()
            assert not lock.exists()
        assert sorted(p.name for p in Path(folder).rglob("*") if p.name.startswith(".")) == []


@PROFILE
@given(mutated_bank())
def test_mutated_banks_keep_the_contract(source: bytes) -> None:
    """Edited valid banks: deleted, repeated and swapped lines, stray text and bytes, YAML
    tags, anchors and aliases, deep Markdown nesting, truncation."""
    check_contract(source)


@PROFILE
@given(yaml_noise)
def test_random_yaml_keeps_the_contract(source: bytes) -> None:
    """Text made of YAML's punctuation, at random."""
    check_contract(source)
