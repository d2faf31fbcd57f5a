"""Run one command and measure its whole process tree: wall time, CPU time and peak memory.

deckgen forks render workers, so the memory of the root process alone undercounts it. The
kernel does not report a tree's peak: ``wait4`` gives the root's own peak RSS, and the peak
it reports for reaped descendants is the largest single one, not their sum. So a thread
samples ``/proc`` every 10 ms while the command runs and keeps the largest sum of resident
memory over the root and all its descendants. Shared copy-on-write pages count once per
process that maps them, as ``ps`` and the kernel's own per-process figures count them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_INTERVAL = 0.01
_PAGE = os.sysconf("SC_PAGE_SIZE")
_MIB = 1024 * 1024


@dataclass(frozen=True)
class Run:
    """One measured run of a command."""

    wall_s: float
    # user + system time of the root and every descendant it reaped (wait4 includes them)
    cpu_s: float
    # the largest sampled sum of RSS over the tree, never less than the largest process's peak
    tree_peak_mib: float
    # each process's own peak (VmHWM), summed: an upper bound, as the peaks need not coincide
    sum_of_peaks_mib: float
    # the largest single process's peak (wait4 reports the root's or a reaped descendant's)
    largest_process_mib: float
    processes: int


class CommandFailed(Exception):
    """The measured command exited with a non-zero status."""


class _TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.members = {root}
        self.parent: dict[int, int] = {}  # every pid seen so far -> its parent then
        self.peak_bytes = 0
        self.hwm_bytes: dict[int, int] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self._stop_event.wait(SAMPLE_INTERVAL):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def sample(self) -> None:
        # Only pids not seen before are looked up, so a sample costs a directory listing plus
        # two small reads per member, whatever else runs on the machine.
        new = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in self.parent]
        for pid in new:
            self.parent[pid] = _parent_of(pid)
        if new:
            grown = True
            while grown:
                grown = False
                for pid, parent in self.parent.items():
                    if parent in self.members and pid not in self.members:
                        self.members.add(pid)
                        grown = True
        total = 0
        for pid in self.members:
            rss, hwm = _memory_of(pid)
            total += rss
            if hwm > self.hwm_bytes.get(pid, 0):
                self.hwm_bytes[pid] = hwm
        self.peak_bytes = max(self.peak_bytes, total)


def _parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return -1
    # The command name in parentheses may hold spaces; the fields after it are fixed.
    return int(stat[stat.rindex(b")") + 2 :].split(maxsplit=2)[1])


def _memory_of(pid: int) -> tuple[int, int]:
    """Current RSS and peak RSS (VmHWM) in bytes; zeros for a process that has gone."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_bytes().split()[1]) * _PAGE
        status = Path(f"/proc/{pid}/status").read_bytes()
    except (OSError, IndexError):
        return 0, 0
    start = status.find(b"VmHWM:")
    hwm = int(status[start + 6 : status.index(b"kB", start)]) * 1024 if start >= 0 else 0
    return rss, hwm


def measure(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    tree: bool = True,
) -> Run:
    """Run ``command`` to its end and measure it; ``tree=False`` skips the /proc sampling
    (for start-up times of a few tens of milliseconds, where a sampling thread would show)."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=None if env is None else dict(env),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        sampler = _TreeSampler(process.pid) if tree else None
        if sampler is not None:
            sampler.start()
        # Blocking in wait4 (not polling) ends the clock when the command ends.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # already reaped
        if sampler is not None:
            sampler.stop()
        if process.returncode != 0:
            stderr.seek(0)
            message = stderr.read().decode(errors="replace")
            raise CommandFailed(f"exit {process.returncode}: {' '.join(command)}\n{message}")
    largest = usage.ru_maxrss * 1024  # KiB on Linux
    if sampler is None:
        tree_peak, sum_of_peaks, processes = largest, largest, 1
    else:
        tree_peak = max(sampler.peak_bytes, largest)
        sum_of_peaks = max(sum(sampler.hwm_bytes.values()), largest)
        processes = len(sampler.members)
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        tree_peak_mib=tree_peak / _MIB,
        sum_of_peaks_mib=sum_of_peaks / _MIB,
        largest_process_mib=largest / _MIB,
        processes=processes,
    )


if __name__ == "__main__":
    # python bench/measure.py COMMAND...: measure one command by hand.
    print(measure(sys.argv[1:]))
