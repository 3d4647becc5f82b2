"""The import of a layer's file as a background job: checks the request can make at once,
the job itself, and the outcome as the import panel shows it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from webapp.access import may_write_kind
from webapp.auth.queries import job_user_row
from webapp.jobs.registry import JobCancelled, JobContext, JobFailed, Outcome, kind

from . import transfer
from .forms import CRS_CHOICES
from .registry import ENTITIES, Entity
from .transfer import FileRefused

KIND = "entity_import"
# The request looks at this much of the file: enough to tell its format and a declared CRS.
HEAD_BYTES = 64 * 1024
# The error table stops here: a file with thousands of bad rows needs fixing at the source.
MAX_SHOWN_ERRORS = 300
_DECLARED_CRS = re.compile(
    rb'"' + re.escape(transfer.CRS_MEMBER.encode()) + rb'"\s*:\s*"([^"]{0,40})"'
)


def check_head(head: bytes, entity: Entity, crs: str) -> None:
    """What the request can refuse at once from the file's start: an unknown format, an old
    .xls, an empty file, a GeoJSON that declares another coordinate system. The job reads the
    whole file and checks again."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not (head.startswith(b"PK\x03\x04") or stripped.startswith(b"{")):
        transfer.read_upload(head, entity)  # raises FileRefused with the reason
    found = _DECLARED_CRS.search(head)
    if found:
        check_declared_crs(found.group(1).decode("utf-8", "replace"), crs)


def check_declared_crs(declared: str | None, crs: str) -> None:
    """A file we exported in GCJ-02 or BD-09 says so: importing it as another system would
    shift every feature by hundreds of metres."""
    if declared and declared != crs:
        labels = dict(CRS_CHOICES)
        raise FileRefused(
            f"文件声明的坐标系为 {labels.get(declared, declared[:20])},"
            f"与所选的 {labels[crs]} 不一致。请选择与文件相同的坐标系。"
        )


@dataclass
class ImportSummary:
    """An import's outcome as the panel shows it (kept in the job row as JSON)."""

    total: int
    created: int
    updated: int
    written: bool
    row_label: str
    invalid_rows: int
    error_count: int
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        text = f"已导入 {self.imported} 条(新增 {self.created},更新 {self.updated})"
        if self.invalid_rows:
            text += f",跳过 {self.invalid_rows} 条有错误的行"
        return text + "。"

    def refused(self) -> str:
        return f"共 {self.total} 行,其中 {self.invalid_rows} 行有错误,未导入任何数据。"

    @classmethod
    def of(cls, result: transfer.ImportResult, written: bool, row_label: str) -> ImportSummary:
        return cls(
            total=result.total,
            created=result.created if written else 0,
            updated=result.updated if written else 0,
            written=written,
            row_label=row_label,
            invalid_rows=result.invalid_rows,
            error_count=len(result.errors),
            errors=[(e.number, e.column, e.message) for e in result.errors[:MAX_SHOWN_ERRORS]],
        )

    def as_json(self) -> dict:
        return json.loads(json.dumps(self.__dict__))

    @classmethod
    def from_json(cls, data: dict) -> ImportSummary:
        return cls(**{**data, "errors": [tuple(error) for error in data["errors"]]})


@kind(KIND)
def run_import(job: JobContext) -> Outcome:
    """Read the saved file, check and write every row in one transaction as the user who
    uploaded it; all or nothing unless only the valid rows were asked for."""
    params = job.params
    entity = ENTITIES[params["entity"]]
    with job.sessions() as session:
        user = job_user_row(session, job.user_id)
        if user is None or not may_write_kind(user, entity):
            raise JobFailed("账号已停用或已无权导入,未写入任何数据。", 403)
        upload = transfer.read_upload_path(params["upload"], entity)
        check_declared_crs(upload.declared_crs, params["crs"])
        try:
            result = transfer.import_rows(
                session,
                user,
                job.address,
                entity,
                upload,
                params["crs"],
                progress=lambda rows, done, total: job.progress(done, total, rows),
                should_stop=job.should_stop,
            )
        except transfer.ImportCancelled:
            session.rollback()
            raise JobCancelled() from None
        written = result.imported > 0 and (not result.errors or params["only_valid"])
        if written:
            session.commit()
        else:
            session.rollback()
    summary = ImportSummary.of(result, written, upload.row_label)
    size = params.get("size", 0)
    job.progress(size, size, result.total)
    return Outcome(summary.summary() if written else summary.refused(), summary.as_json())
