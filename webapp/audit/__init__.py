"""The audit log page (审计日志): the audit administrator filters, pages and exports the log.

Recording events, verifying the hash chain and purging old entries are webapp/auditing.py, which
every area uses; this package is the page, which uses the map shell.
"""
