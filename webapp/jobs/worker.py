"""The worker: claims queued jobs one at a time and runs them (``gridmap worker``).

It sleeps on ``LISTEN`` until a job is queued (or ``poll_s`` passes, in case a notification
was missed), so a new job starts within moments and an idle worker costs nothing. SIGTERM or
Ctrl-C stops it: a running job stops at its next check, is rolled back and queued again, so
the next worker start runs it from the beginning. While idle it also fails the jobs of a
worker that was killed outright (``queries.fail_abandoned``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gis.errors import UserError
from webapp.models import JobState

from . import queries
from .registry import JobCancelled, JobContext, load

log = logging.getLogger(__name__)

FAILED_MESSAGE = (
    "任务失败:系统内部错误,未写入任何数据。请稍后重试;如仍失败,请联系系统管理员(任务编号 {id})。"
)
CANCELLED_MESSAGE = "已取消,未写入任何数据。"


class Worker:
    """Runs ``app``'s jobs, each in an app context (forms, config) with sessions from the
    app's sessionmaker (the tests' one keeps them in the test's transaction)."""

    def __init__(self, app: Flask, fork: bool = False) -> None:
        self.app = app
        self.sessions: Callable[[], Session] = app.extensions["db_sessionmaker"]
        self.kinds = load()
        self.fork = fork
        self.child: int | None = None
        self.stopping = False

    def run_one(self) -> bool:
        """Claim and run the oldest queued job; False when there was none."""
        with self.sessions() as session:
            job = queries.claim_next(session)
            if job is None:
                return False
            job_id, kind, params = job.id, job.kind, dict(job.params)
            context = JobContext(job_id, params, job.user_id, job.address, self.sessions)
        context.stopping = lambda: self.stopping
        log.info("job %s (%s) started", job_id, kind)
        if self.fork:
            self._in_child(context, kind)
        else:
            self._execute(context, kind)
        log.info("job %s (%s) ended", job_id, kind)
        return True

    def _execute(self, context: JobContext, kind: str) -> None:
        with self.app.app_context():
            state, message, result = self._run(kind, context)
        with self.sessions() as session:
            if state is None:  # interrupted by a shutdown: run again by the next worker
                session.execute(
                    text(
                        "UPDATE job SET state = 'queued', started_at = NULL, done = 0,"
                        " items_done = 0 WHERE id = :id"
                    ),
                    {"id": context.job_id},
                )
                session.commit()
                return
            queries.finish(session, context.job_id, state, message, result)
        queries.remove_upload(context.params)

    def _in_child(self, context: JobContext, kind: str) -> None:
        """Run the job in a forked child: the memory a big file took goes back to the system
        when the child exits, and a crash (or the OOM killer) takes only the job with it."""
        pid = os.fork()
        if pid == 0:  # the child: its own database connections, never the parent's
            code = 1
            try:
                for key in ("db_engine", "db_read_engine"):
                    self.app.extensions[key].dispose(close=False)
                self._execute(context, kind)
                code = 0
            except BaseException:
                log.exception("job %s (%s): the job process failed", context.job_id, kind)
            finally:
                os._exit(code)
        self.child = pid
        _pid, status = os.waitpid(pid, 0)
        self.child = None
        if status != 0:
            with self.sessions() as session:
                lost = session.execute(
                    text(
                        "UPDATE job SET state = 'failed', finished_at = now(), message = :m"
                        " WHERE id = :id AND state = 'running' RETURNING id"
                    ),
                    {"m": FAILED_MESSAGE.format(id=context.job_id), "id": context.job_id},
                ).scalar()
                session.commit()
            if lost:
                queries.remove_upload(context.params)

    def _run(self, kind: str, context: JobContext):
        runner = self.kinds.get(kind)
        if runner is None:
            return JobState.FAILED, f"未知的任务类型({kind[:40]}),请联系系统管理员。", None
        try:
            outcome = runner(context)
        except JobCancelled:
            if self.stopping:
                return None, None, None
            return JobState.CANCELLED, CANCELLED_MESSAGE, None
        except UserError as err:
            return JobState.FAILED, err.message, {"status": err.status}
        except Exception:
            # The trace goes to the worker's log; the page says what happened in plain words.
            log.exception("job %s (%s) failed", context.job_id, kind)
            return JobState.FAILED, FAILED_MESSAGE.format(id=context.job_id), {"status": 500}
        return JobState.DONE, outcome.message, outcome.result

    def run_pending(self, limit: int = 100) -> int:
        """Run queued jobs until none is left (or ``limit``); how many ran. For tests and
        one-off use: no waiting."""
        ran = 0
        while ran < limit and self.run_one():
            ran += 1
        return ran

    def serve(self, engine: Engine, poll_s: float = 2.0, handle_signals: bool = True) -> None:
        """Run jobs as they come until SIGTERM / SIGINT (or ``stop()``, from another thread)."""
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda _signum, _frame: self.stop())
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"LISTEN {queries.CHANNEL}"))
            listener = conn.connection.driver_connection
            while not self.stopping:
                while not self.stopping and self.run_one():
                    pass
                if self.stopping:
                    break
                with self.sessions() as session:
                    lost = queries.fail_abandoned(session)
                if lost:
                    log.warning("marked %s abandoned running jobs as failed", lost)
                for _ in listener.notifies(timeout=poll_s, stop_after=1):
                    pass

    def stop(self) -> None:
        """Stop: a running job stops at its next check, is rolled back and queued again."""
        self.stopping = True
        if self.child is not None:
            os.kill(self.child, signal.SIGTERM)


@contextlib.contextmanager
def worker_thread(app: Flask, poll_s: float = 0.5) -> Iterator[Worker]:
    """A worker serving ``app``'s queue in a thread of this process while the block runs (the
    tests' live servers); it stops, and its thread ends, with the block."""
    worker = Worker(app)
    thread = threading.Thread(
        target=worker.serve,
        args=(app.extensions["db_engine"],),
        kwargs={"poll_s": poll_s, "handle_signals": False},
        daemon=True,
    )
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(30)
