"""The edit-one-answer rebuild of ``deckgen watch``, timed inside its process.

    python bench/watch_rebuild.py BANK OUT_FOLDER

A watch session's first build checks and renders the bank (its render cache may be warm);
then one answer is edited and the session builds again, from the state it kept in memory.
Prints that second build's wall and CPU seconds as JSON. The lock and package go to
OUT_FOLDER, beside those of ``deckgen build``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from run import edit_one_answer

from deckgen.watch import Watcher


def main() -> None:
    bank, out = Path(sys.argv[1]), Path(sys.argv[2])
    watcher = Watcher(
        bank,
        say=lambda message, style: None,
        output=out / "watch.apkg",
        lock_path=out / "watch.lock",
    )
    watcher.rebuild()
    edit_one_answer(bank)
    wall, cpu = time.perf_counter(), time.process_time()
    watcher.rebuild()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if watcher.problems or not (out / "watch.apkg").is_file():
        raise SystemExit(f"the watch session did not build: {watcher.problems}")
    print(json.dumps({"wall_s": wall, "cpu_s": cpu}))


if __name__ == "__main__":
    main()
