"""The audit log (审计日志): events recorded, the hash chain verified, old entries purged.

Every login, logout, failed login, permission change, data write, export and view of personal
data lands in ``audit_log`` in the transaction of the act it records. A trigger chains each row
to the one before by SHA-256 and refuses UPDATE and DELETE (the application cannot rewrite
history); ``verify`` recomputes the chain, ``purge`` removes rows past the retention age.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.models import AuditEntry

MIN_RETENTION_DAYS = 180  # 等保 2.0: keep audit records at least six months
GENESIS = "0" * 64


def record_event(
    session: Session,
    *,
    action: str,
    entity: str,
    username: str,
    user_id: int | None = None,
    address: str | None = None,
    entity_id: int | None = None,
    summary: str = "",
    outcome: str = "success",
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Add one entry to the session: it lands with the act it records, or not at all."""
    session.add(
        AuditEntry(
            user_id=user_id,
            username=username[:50],
            address=address,
            action=action,
            outcome=outcome,
            entity=entity,
            entity_id=entity_id,
            summary=summary,
            before=before,
            after=after,
        )
    )


@dataclass
class Verdict:
    entries: int
    broken_at: int | None  # the id of the first entry that does not verify
    reason: str
    last_hash: str

    @property
    def intact(self) -> bool:
        return self.broken_at is None


# The hash each row should have, recomputed from its content by the same SQL the trigger uses.
VERIFY_SQL = """
SELECT id, prev_hash, hash,
       encode(sha256(convert_to(prev_hash || '|' || gm_audit_content(a), 'UTF8')), 'hex')
FROM audit_log a ORDER BY id
"""


def verify(session: Session) -> Verdict:
    """Walk the chain in id order: each row's hash must match its content, and each row must
    point at the hash of the row before it. The oldest row kept may point at a purged one."""
    previous = None
    count = 0
    last = GENESIS
    for entry_id, prev_hash, stored, expected in session.execute(text(VERIFY_SQL)):
        count += 1
        if stored != expected:
            return Verdict(count, entry_id, "内容与哈希不符(记录被修改)", last)
        if previous is not None and prev_hash != previous:
            return Verdict(count, entry_id, "与前一条记录的哈希不衔接(记录被删除或插入)", last)
        previous = last = stored
    return Verdict(count, None, "", last)


def purge(session: Session, older_than_days: int) -> int:
    """Delete entries older than ``older_than_days`` (at least MIN_RETENTION_DAYS)."""
    if older_than_days < MIN_RETENTION_DAYS:
        raise ValueError(f"audit entries are kept at least {MIN_RETENTION_DAYS} days")
    session.execute(text("SET LOCAL gridmap.audit_purge = 'on'"))
    deleted = session.execute(
        text("DELETE FROM audit_log WHERE at < now() - make_interval(days => :days)"),
        {"days": older_than_days},
    ).rowcount
    session.execute(text("SET LOCAL gridmap.audit_purge = 'off'"))
    return deleted


def record_request_event(action: str, entity: str, **fields) -> None:
    """``record_event`` for the user and client address of the current request."""
    from flask import request
    from flask_login import current_user

    from webapp.db import get_session

    record_event(
        get_session(),
        action=action,
        entity=entity,
        user_id=current_user.id,
        username=current_user.username,
        address=request.remote_addr,
        **fields,
    )
