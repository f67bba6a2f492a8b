"""How `kubetenancy dev` reports long builds: a progress bar on a terminal, plain lines anywhere else.

In a log (CI, `make run > log`) each step prints a line when it starts, at every tenth of its packages,
and when it is done, each with the time elapsed, so a first build that takes minutes is never silent.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from kubetenancy.localcluster.gobuild import ProgressCallback

console = Console(stderr=True, width=None if sys.stderr.isatty() else 10_000)
"""The dev commands' messages. Off a terminal nothing is wrapped or cut (rich would assume 80 columns),
so an `export KUBECONFIG=…` line can be pasted and `dev status` shows whole paths."""


def elapsed(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


class PlainLines:
    """A `ProgressCallback` writing one line per step and per tenth of a step to stderr."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.reported: dict[str, int] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        now = time.monotonic()
        if name not in self.started:
            self.started[name], self.reported[name] = now, 0
            size = f" ({total} packages)" if total > 1 else ""
            print(f"building {name}{size}", file=sys.stderr, flush=True)
        tenth = done * 10 // max(total, 1)
        if done >= total:
            print(f"built {name} in {elapsed(now - self.started[name])}", file=sys.stderr, flush=True)
            self.reported[name] = 10
        elif tenth > self.reported[name]:
            self.reported[name] = tenth
            line = f"building {name}: {done}/{total} packages, {elapsed(now - self.started[name])}"
            print(line, file=sys.stderr, flush=True)


@contextmanager
def build_progress(console: Console) -> Iterator[ProgressCallback]:
    """A progress callback for the duration of the block, suited to where `console` writes."""
    if not console.is_terminal:
        yield PlainLines()
        return
    with Progress(
        TextColumn("building {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("packages"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield report
