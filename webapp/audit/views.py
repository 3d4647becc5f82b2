"""The audit log page (审计日志): the auditor filters, pages and exports the log.

The URLs stay under /manage/audit, beside the data they record. The page names each kind of
record it can filter by; the map entities' kinds are handed over at app set-up (``init_app``)
so that this package does not import the entities package, which records into the log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, request
from flask_login import current_user, login_required

from webapp import access, spreadsheet
from webapp.access import Action
from webapp.audit import queries
from webapp.auditing import record_request_event
from webapp.db import get_session
from webapp.map.shell import map_page
from webapp.models import AuditEntry

bp = Blueprint("audit", __name__, url_prefix="/manage/audit")


def init_app(
    app: Flask,
    entity_kinds: Mapping[str, str],
    personal_fields: Mapping[str, tuple[str, ...]] | None = None,
    mask: Callable[[str], str] | None = None,
) -> None:
    """Name the kinds of record the page filters by: ``entity_kinds`` (key → label) and the
    kinds that are not map entities; and each kind's personal fields with how to mask them."""
    app.extensions["audit_kinds"] = {**entity_kinds, **queries.KINDS}
    app.extensions["audit_personal"] = (dict(personal_fields or {}), mask)


@dataclass(frozen=True)
class ShownEntry:
    """An entry as the page shows it, its personal fields masked.

    Writes record masks already (webapp.entities.queries.masked); this covers entries written
    before a field was treated as personal (place contacts' phones), which the append-only,
    hash-chained log cannot rewrite.
    """

    entry: AuditEntry
    before: dict | None
    after: dict | None

    def __getattr__(self, name: str):
        return getattr(self.entry, name)


def shown(entry: AuditEntry) -> AuditEntry | ShownEntry:
    fields, mask = current_app.extensions["audit_personal"]
    personal = fields.get(entry.entity, ())
    if not personal or mask is None:
        return entry

    def hide(values: dict | None) -> dict | None:
        if not isinstance(values, dict):
            return values
        return {
            k: mask(v) if k in personal and isinstance(v, str) and v else v
            for k, v in values.items()
        }

    return ShownEntry(entry, hide(entry.before), hide(entry.after))


@bp.before_request
@login_required
def _require_login():
    """Staff only; the auditor alone reads the log (checked per view)."""


def _filtered():
    """The audit entries the filters in the query string select (auditor only)."""
    access.require(current_user, Action.READ_AUDIT_LOG, "审计日志仅审计管理员可以查看。")
    kinds = current_app.extensions["audit_kinds"]
    return queries.filtered(request.args, kinds), kinds


@bp.get("")
def log():
    stmt, kinds = _filtered()
    args = request.args
    page = int(args["page"]) if args.get("page", "").isdigit() else 1
    entries, more = queries.page_of(get_session(), stmt, page)
    return map_page(
        "audit/log.html",
        push_url=request.full_path.rstrip("?"),
        entries=[shown(entry) for entry in entries],
        more=more,
        page=page,
        entities=kinds,
        actions=queries.ACTIONS,
        args=args,
    )


@bp.get("/export.csv")
def export():
    """The filtered audit log as CSV (UTF-8 with BOM, for Excel); the export is audited too."""
    stmt, _ = _filtered()
    session = get_session()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        ["编号", "时间", "用户", "地址", "操作", "结果", "对象", "对象编号", "摘要", "哈希"]
    )
    count = 0
    for e in queries.for_export(session, stmt):
        count += 1
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                _cell(e.username),
                _cell(e.address or ""),
                queries.ACTIONS.get(e.action, e.action),
                e.outcome,
                _cell(e.entity),
                e.entity_id or "",
                _cell(e.summary),
                e.hash or "",
            ]
        )
    record_request_event("export", "audit_log", summary=f"导出审计日志 {count} 条")
    session.commit()
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


def _cell(value: str) -> str:
    """A CSV cell Excel will not run as a formula (the spreadsheet writer's rule)."""
    return "'" + value if spreadsheet.looks_like_formula(value) else value
