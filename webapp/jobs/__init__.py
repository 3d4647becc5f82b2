"""Background jobs (后台任务) on a PostgreSQL queue: long work leaves the web request.

A view calls ``queries.enqueue`` and answers at once; ``gridmap worker`` (``worker.py``) claims
the job, runs its kind's function from ``registry`` and records progress and the outcome in
the ``job`` row, which the page polls. No server beyond PostgreSQL: the claim is
``FOR UPDATE SKIP LOCKED`` and ``NOTIFY`` wakes the worker.

We chose this small queue over procrastinate: the app needs a job record the pages read
(progress, result summary, who and when, a cancel flag) that procrastinate does not keep, so
its tables would have come in addition to ours; its worker is asyncio, and its schema would be
a second migration chain to keep beside the models.
"""
