"""Job kinds: the name a job is queued under and the function the worker runs for it.

Each area registers its kinds with ``@kind("…")`` in a module listed in ``KIND_MODULES``; the
worker imports them all at start, so the queue needs to know no area (no import cycle).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import UserError

KIND_MODULES = (
    "webapp.entities.import_job",
    "webapp.circles.jobs",
    "webapp.boundaries.jobs",
    "webapp.reports.jobs",
)

# A cancel request is looked up at most this often (a running job asks every few rows).
CANCEL_CHECK_S = 0.5


class JobCancelled(Exception):
    """The job's function stopped because 取消 was pressed; the worker rolls back."""


class JobFailed(UserError):
    """A job that cannot go on, with the reason in Chinese (shown to the user as it is)."""


@dataclass
class Outcome:
    """How a job ended: the summary shown to the user and what its page needs to show more."""

    message: str
    result: dict = field(default_factory=dict)


@dataclass
class JobContext:
    """What a job's function gets: its row's fields, sessions, and progress / cancel calls."""

    job_id: int
    params: dict
    user_id: int | None
    address: str | None
    sessions: Callable[[], Session]
    # True while the worker shuts down: the job stops as if cancelled and is queued again.
    stopping: Callable[[], bool] = field(default_factory=lambda: lambda: False)
    _cancelled: bool = False
    _checked_at: float = 0.0

    def progress(self, done: int, total: int, items: int | None = None) -> None:
        """Record ``done`` of ``total`` (and items, e.g. rows) in a short transaction of its
        own, so pages see it while the job's own transaction is still open."""
        with self.sessions() as session:
            cancel = session.execute(
                text(
                    "UPDATE job SET done = :done, total = :total,"
                    " items_done = coalesce(:items, items_done), heartbeat_at = now()"
                    " WHERE id = :id RETURNING cancel_requested"
                ),
                {"done": done, "total": total, "items": items, "id": self.job_id},
            ).scalar()
            session.commit()
        self._cancelled = bool(cancel)
        self._checked_at = time.monotonic()

    def should_stop(self) -> bool:
        """True once 取消 was pressed (looked up at most every ``CANCEL_CHECK_S``)."""
        if self.stopping():
            return True
        if not self._cancelled and time.monotonic() - self._checked_at >= CANCEL_CHECK_S:
            with self.sessions() as session:
                self._cancelled = bool(
                    session.execute(
                        text("SELECT cancel_requested FROM job WHERE id = :id"),
                        {"id": self.job_id},
                    ).scalar()
                )
            self._checked_at = time.monotonic()
        return self._cancelled


Runner = Callable[[JobContext], Outcome]
KINDS: dict[str, Runner] = {}


def kind(name: str) -> Callable[[Runner], Runner]:
    """Register the decorated function as the runner of jobs of kind ``name``."""

    def register(runner: Runner) -> Runner:
        KINDS[name] = runner
        return runner

    return register


def load() -> dict[str, Runner]:
    """Every registered kind (imports the areas' job modules once)."""
    for module in KIND_MODULES:
        importlib.import_module(module)
    return KINDS
