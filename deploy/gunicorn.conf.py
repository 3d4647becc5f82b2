"""gunicorn settings for gridmap behind nginx (loaded by deploy/gridmap-web.service).

Sizes come from webapp.ops.checks, which ``gridmap check-deployment`` reads too, so both agree
on how many workers count rate limits in memory when no Redis is configured.
"""

import os

from webapp.ops.checks import WEB_THREADS, web_workers

# Loopback only: nginx in front ends TLS and is the one client; nothing else reaches gunicorn.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# WEB_CONCURRENCY, else 2 × cores + 1 (at most 8: each worker holds two small PostgreSQL pools).
workers = web_workers()
# Requests mostly wait on PostgreSQL: a few threads per worker keep the cores busy.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", WEB_THREADS))
# The slowest request (an Excel export of a whole subdistrict) stays under a minute; statement
# timeouts (STATEMENT_TIMEOUT_MS) end runaway queries well before this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# nginx keeps connections to the upstream open between requests.
keepalive = 5
# A worker is replaced after this many requests (with jitter, so not all at once): a slow leak in
# a library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# The app reads the client address from X-Forwarded-For (PROXY_HOPS); gunicorn trusts the
# forwarded headers only from nginx on this host.
forwarded_allow_ips = "127.0.0.1,::1"
# Logs go to the journal (journalctl -u gridmap-web).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'
# Workers load the app after the fork: each opens its own database pools.
preload_app = False
# Temporary files of request bodies in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm"
