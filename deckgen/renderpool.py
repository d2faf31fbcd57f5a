"""Render workers: processes forked before the bank is read, fed slices of questions while the
parent renders slices too and takes the results in the bank's order.

A slice and its result go through files in a private temporary folder, and only their names
through the pipes: a process that is busy rendering never makes the other wait on a full pipe.

Forked early, a worker holds only the interpreter and the renderer: the parent's copy of the
bank is never mapped into it, so the whole process tree stays near one process's memory. The
pool is deckgen's own (no threads, no queues) so that a dead worker is seen at once, as its
process sentinel fires, and an interrupted build stops every worker before it returns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # multiprocessing is imported only when a pool starts: a rebuild has none
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

Work = Sequence[Any]  # one slice of questions, as the render function takes it
Result = list[tuple[str, ...]]
# Slices sent ahead to each worker, so that it never waits for the parent between two.
_AHEAD = 2
_PIECE = 50  # items the parent renders between two looks at the workers


class WorkerDied(Exception):
    """A worker ended without sending a slice's result; ``label`` names that slice."""

    def __init__(self, label: object, reason: str) -> None:
        super().__init__(reason)
        self.label = label


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity, capped by a cgroup CPU quota (as a
    CI runner's container has), not the machine's count."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as f:
            quota, period = f.read().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return cpus


def can_fork() -> bool:
    """Whether workers can be forked here (not on Windows, for one)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


class RenderPool:
    """``workers`` forked processes that run ``render`` on slices; see the module's docstring.

    ``render`` must be importable state of the parent at fork time: the workers run the very
    function object they inherit.
    """

    def __init__(self, workers: int, render: Callable[[Work], Result]) -> None:
        self.render = render
        self.workers: list[tuple[Connection, Connection, BaseProcess]] = []
        self.folder = tempfile.mkdtemp(prefix="deckgen-render-")
        self.queues: dict[int, deque[int]] = {n: deque() for n in range(workers)}  # tickets
        self.done: dict[int, str] = {}  # ticket -> the file of its result
        self.labels: dict[int, object] = {}
        self.tickets = 0
        import multiprocessing

        context = multiprocessing.get_context("fork")
        try:
            for _ in range(workers):
                to_worker, worker_in = context.Pipe(duplex=False)
                worker_out, from_worker = context.Pipe(duplex=False)
                process = context.Process(
                    target=_serve, args=(to_worker, from_worker, render, self.folder)
                )
                process.start()
                # Each end is held by one process only: EOF means the other side is gone.
                to_worker.close()
                from_worker.close()
                self.workers.append((worker_in, worker_out, process))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, work: Work, label: object) -> int:
        """Send a slice to the worker with the fewest waiting; return its ticket. ``label``
        names the slice in :class:`WorkerDied`."""
        number = min(self.queues, key=lambda n: len(self.queues[n]))
        ticket = self.tickets
        self.tickets += 1
        path = os.path.join(self.folder, f"slice-{ticket}")
        _write(path, work)
        self.labels[ticket] = label
        try:
            self.workers[number][0].send((ticket, path))
        except OSError:  # the worker is gone
            raise self._died(number, label) from None
        self.queues[number].append(ticket)
        return ticket

    def has_room(self, ahead: int = _AHEAD, *, besides: Collection[int] = ()) -> bool:
        """Whether a worker has fewer than ``ahead`` slices waiting, not counting the
        tickets of ``besides``."""
        return any(
            sum(ticket not in besides for ticket in queue) < ahead for queue in self.queues.values()
        )

    def collect(self, *, block: bool) -> bool:
        """Take note of the results that workers have finished (waiting for one if
        ``block``); whether there were any. Raises :class:`WorkerDied`."""
        busy = [n for n, queue in self.queues.items() if queue]
        ready = self._ready(busy, block=block)
        for number in ready:
            ticket, path = self._receive(number)
            self.done[ticket] = path
        return bool(ready)

    def result(self, ticket: int) -> Result:
        """The result of a submitted slice, waiting for it if need be."""
        while ticket not in self.done:
            self.collect(block=True)
        result: Result = _read(self.done.pop(ticket))
        return result

    def map(
        self,
        slices: Sequence[Work],
        labels: Sequence[object],
        *,
        sent: Mapping[int, int] | None = None,
    ) -> Iterator[Result]:
        """``render(work)`` of each slice, yielded in order. Workers get slices as they finish
        earlier ones; the parent renders a slice whenever no result is waiting, but never runs
        far ahead of the slice it must yield next. ``sent`` has the tickets of slices already
        submitted, by index. Raises :class:`WorkerDied` when a worker ends early."""
        # slice -> ticket, for the slices sent to workers
        tickets: dict[int, int] = dict(sent or {})
        pending = deque(n for n in range(len(slices)) if n not in tickets)
        mine: dict[int, Result] = {}  # the slices the parent rendered
        ahead = 2 * len(self.workers) + 2  # results the parent may hold before yielding

        # The slices sent before do not count: a worker still on them gets its next ones
        # now, before this process starts on a slice of its own (the first can be long: it
        # sets up the code highlighters).
        early = frozenset(tickets.values())

        def refill() -> None:
            # The first slice is the parent's, when nothing is waiting: it starts at once.
            while pending and self.has_room(besides=early) and (len(pending) > 1 or self.waiting()):
                index = pending.popleft()
                tickets[index] = self.submit(slices[index], labels[index])

        def render_here(index: int) -> Result:
            # In pieces, the workers' results taken between them: a worker that finishes
            # its slices while this process renders gets more at once, not when it is done.
            work, result = slices[index], []
            for at in range(0, len(work), _PIECE):
                result += self.render(work[at : at + _PIECE])
                if self.collect(block=False):
                    refill()
            return result

        refill()
        for wanted in range(len(slices)):
            # Workers that finished a slice while the caller took the last result get more.
            if self.collect(block=False):
                refill()
            while wanted not in mine and tickets.get(wanted) not in self.done:
                if pending and pending[0] == wanted:
                    mine[wanted] = render_here(pending.popleft())
                    break
                can_work = bool(pending) and len(mine) < ahead
                found = self.collect(block=not can_work)
                refill()
                if not found and can_work:
                    index = pending.popleft()
                    mine[index] = render_here(index)
            yield mine.pop(wanted) if wanted in mine else self.result(tickets[wanted])

    def waiting(self) -> bool:
        """Whether any worker has a slice in hand."""
        return any(self.queues.values())

    def _ready(self, busy: list[int], *, block: bool) -> list[int]:
        """The busy workers with a result (or an end) to read."""
        if not busy:
            return []
        waiting: dict[Any, int] = {}
        for number in busy:
            _, receive, process = self.workers[number]
            waiting[receive] = number
            waiting[process.sentinel] = number
        from multiprocessing.connection import wait

        found = wait(list(waiting), timeout=None if block else 0)
        return sorted({waiting[item] for item in found})

    def _receive(self, number: int) -> tuple[int, str]:
        receive = self.workers[number][1]
        ticket = self.queues[number][0]
        if receive.poll():
            try:
                status, value = receive.recv()
            except EOFError:
                pass
            else:
                self.queues[number].popleft()
                if status != "ok":
                    raise WorkerDied(self.labels[ticket], str(value))
                return ticket, str(value)
        raise self._died(number, self.labels[ticket])

    def _died(self, number: int, label: object) -> WorkerDied:
        """Why worker ``number`` is gone, for the slice named ``label``."""
        process = self.workers[number][2]
        process.join(timeout=5)
        code = process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
        return WorkerDied(label, f"a render worker died: {how}")

    def close(self) -> None:
        """Stop every worker and wait for it."""
        for send, _, process in self.workers:
            with contextlib.suppress(OSError):
                send.close()  # EOF: a worker between slices ends at once
            if process.is_alive():
                process.terminate()
        for _, receive, process in self.workers:
            process.join(timeout=5)
            receive.close()
        self.workers = []
        shutil.rmtree(self.folder, ignore_errors=True)


def _serve(
    receive: Connection, send: Connection, render: Callable[[Work], Result], folder: str
) -> None:
    # Ctrl-C reaches the whole process group: only the parent handles it, and stops the
    # workers itself. SIGTERM ends a worker at once, without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            ticket, path = receive.recv()
        except (EOFError, OSError):
            return
        try:
            result = render(_read(path))
            out = os.path.join(folder, f"result-{ticket}")
            _write(out, result)
        except Exception as e:  # reported by the parent, with the questions' location
            send.send(("error", f"{type(e).__name__}: {e}"))
            return
        send.send(("ok", out))


def _write(path: str, value: object) -> None:
    import pickle  # only where notes are rendered by workers

    with open(path, "wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)


def _read(path: str) -> Any:
    import pickle

    with open(path, "rb") as f:
        value = pickle.load(f)
    os.remove(path)
    return value
