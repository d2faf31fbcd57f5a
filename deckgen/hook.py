"""The pre-commit hook: validate the YAML files that are deckgen banks, and only those.

pre-commit hands the hook every staged YAML file. Workflows, docker-compose.yml and the
pre-commit config are YAML too, so the hook picks the banks by content rather than by
name: a bank has a top-level `deck:` or `topics:` key (both required), so a bank under any
file name, even one missing either key, is checked, and other YAML is left alone.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# A key in column 0 is a key of the root mapping: block scalars and nested keys are indented.
_BANK_KEY = re.compile(r"""^\ufeff?(?:deck|topics|"deck"|"topics"|'deck'|'topics')[ \t]*:""", re.M)


def is_bank(path: Path) -> bool:
    """Whether ``path`` looks like a deckgen bank: a root mapping with `deck` or `topics`."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return True  # validate reports a file it cannot read, where skipping would hide it
    return _BANK_KEY.search(text) is not None


def main(argv: list[str] | None = None) -> None:
    """Run `deckgen validate` on the banks among the given files; exit 0 when there are none."""
    files = sys.argv[1:] if argv is None else argv
    banks = [name for name in files if is_bank(Path(name))]
    if banks:
        from deckgen.cli import main as cli

        cli(["validate", *banks], prog_name="deckgen")


if __name__ == "__main__":
    main()
