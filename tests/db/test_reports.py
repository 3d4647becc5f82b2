"""报表: the figures equal the same counts written here in SQL; the PDF (read back with
pdftotext) and the workbook (openpyxl) hold them; refusals are clear and leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from gis.errors import UserError
from tests.helpers import HX, csrf_token
from webapp import clock
from webapp.charts import snapshots
from webapp.demo.events import generate_events
from webapp.reports import generate, periods
from webapp.reports.sections import SECTIONS, ReportArea

NOW = datetime(2026, 6, 20, 3, 30, tzinfo=UTC)  # 11:30 in the subdistrict
MAY_START, JUNE_START = "2026-05-01 00:00+08", "2026-06-01 00:00+08"
SNAPSHOT_DAY = date(2026, 5, 28)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode()


def scalar(connection, sql: str, **params):
    return connection.execute(text(sql), params).scalar()


@pytest.fixture
def may(db, connection):
    """Six months of demo events before NOW and a camera snapshot of late May."""
    generate_events(connection.connection.driver_connection, count=600, now=NOW, days=180, seed=3)
    snapshots.take(db, day=SNAPSHOT_DAY, now=NOW)
    db.flush()
    with clock.frozen(NOW):
        yield periods.parse("2026-05", clock.today())


@pytest.fixture
def community(connection):
    """The demo community account's community: (id, code, name)."""
    return connection.execute(
        text(
            "SELECT c.id, c.code, c.name FROM community c JOIN app_user u"
            " ON u.community_id = c.id WHERE u.username = 'community'"
        )
    ).one()


def made(app, period, code):
    """A report made through the app's own session (the test's connection), flushed."""
    from webapp.db import get_session

    with app.test_request_context():
        session = get_session()
        area = generate.area_of(session, code)
        return generate.generate(session, period, area, user_id=None, user_name="测试")


def test_a_communitys_month_equals_the_counts_in_sql(app, connection, may, community):
    report = made(app, may, community.code)
    f = report.figures
    c = community.id
    reported = scalar(
        connection,
        "SELECT count(*) FROM grid_event WHERE community_id = :c"
        " AND reported_at >= :a AND reported_at < :b",
        c=c, a=MAY_START, b=JUNE_START,
    )  # fmt: skip
    closed = scalar(
        connection,
        "SELECT count(*) FROM grid_event WHERE community_id = :c AND state = '已结案'"
        " AND closed_at >= :a AND closed_at < :b",
        c=c, a=MAY_START, b=JUNE_START,
    )  # fmt: skip
    assert reported > 0 and closed > 0
    assert f["events"]["上报"] == reported
    assert f["events"]["结案"] == closed
    online, total, connected = connection.execute(
        text(
            "SELECT sum(cameras) FILTER (WHERE state = '在线'), sum(cameras), sum(connected)"
            " FROM camera_snapshot WHERE taken_on = :d AND community_id = :c"
        ),
        {"d": SNAPSHOT_DAY, "c": c},
    ).one()
    assert (f["cameras"]["在线"], f["cameras"]["监控总数"]) == (online, total)
    assert f["cameras"]["已接入雪亮工程"] == connected
    assert f["cameras"]["在线率"] == round(online * 100 / total, 1)
    visits = scalar(
        connection,
        "SELECT count(*) FROM visit WHERE community_id = :c"
        " AND visited_on BETWEEN '2026-05-01' AND '2026-05-31'",
        c=c,
    )
    assert f["visits"]["本期走访"] == visits
    houses, recorded = connection.execute(
        text(
            "SELECT count(*), count(*) FILTER (WHERE h.use = '空置' OR EXISTS (SELECT 1 FROM"
            " residence r WHERE r.house_id = h.id AND r.moved_out IS NULL))"
            " FROM house h WHERE h.community_id = :c"
        ),
        {"c": c},
    ).one()
    assert (f["collection"]["实有房屋"], f["collection"]["已采集"]) == (houses, recorded)
    declared = scalar(
        connection, "SELECT count(*) FROM campaign WHERE community_id = :c AND year = 2026", c=c
    )
    assert f["campaigns"]["已申报"] == declared
    assert list(f) == [section.key for section in SECTIONS]


def test_the_subdistrict_report_counts_every_community(app, connection, may):
    report = made(app, may, None)
    assert report.community_id is None
    reported = scalar(
        connection,
        "SELECT count(*) FROM grid_event WHERE reported_at >= :a AND reported_at < :b",
        a=MAY_START, b=JUNE_START,
    )  # fmt: skip
    assert report.figures["events"]["上报"] == reported
    total = scalar(
        connection, "SELECT sum(cameras) FROM camera_snapshot WHERE taken_on = :d", d=SNAPSHOT_DAY
    )
    assert report.figures["cameras"]["监控总数"] == total


def test_the_standards_are_those_of_the_standards_page(app, connection, may, community):
    """The section judges the communities as /standards does (whose figures
    tests/db/test_standards.py checks against SQL): per community, then summed."""
    from webapp.standards import queries as standard_queries

    whole = made(app, may, None).figures["standards"]
    communities = scalar(connection, "SELECT count(*) FROM community")
    assert whole["社区数"] == communities
    assert whole["达标项"] + whole["接近"] + whole["未达标"] == communities * whole["标准项数"]
    one = made(app, may, community.code)
    f = one.figures["standards"]
    assert f["社区数"] == 1
    with app.test_request_context(), clock.frozen(NOW):
        from webapp.db import get_session
        from webapp.domain import standards as rules

        today = clock.today()
        deadline = rules.xueliang_deadline(app.config["XUELIANG_DEADLINE"], today)
        center = ReportArea(None, "全街道").reader  # the center, as the /standards page reads
        (row,) = standard_queries.community_standards(
            get_session(), center, today, deadline, community_id=community.id
        )
    assert f["达标项"] == row.met
    assert 0 < f["达标项"] < f["标准项数"]  # the demo meets some standards and misses others
    words = pdf_text(one.pdf)
    assert re.search(rf"达标项\s+{row.met}\b", words)


def test_the_pdf_and_the_workbook_hold_the_figures(app, may, community):
    report = made(app, may, community.code)
    words = pdf_text(report.pdf)
    assert f"{community.name}2026年5月月报" in words
    assert "内部资料" in words
    for section in (
        "监控点位(雪亮工程)", "平安创建", "网格事件", "走访", "采集进度(一标三实)", "社区建设标准"
    ):  # fmt: skip
        assert section in words
    events = report.figures["events"]
    assert re.search(rf"上报\s+{events['上报']}\b", words)
    assert re.search(rf"结案\s+{events['结案']}\b", words)
    cameras = report.figures["cameras"]
    assert re.search(rf"在线率\s+{cameras['在线率']:.1f}%", words)
    assert re.search(rf"监控总数\s+{cameras['监控总数']}\b", words)
    # The map names the community's grids.
    assert f"{community.name}第1网格" in words

    book = load_workbook(io.BytesIO(report.xlsx))
    assert book.sheetnames[0] == "概况"
    rows = {(r[0], r[1]): r[2] for r in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert rows[("网格事件", "上报")] == events["上报"]
    assert rows[("监控点位(雪亮工程)", "在线率(%)")] == cameras["在线率"]
    sheet = book["监控点位-雪亮工程"]
    assert [c.value for c in sheet[1]][:2] == ["编码", "网格"]
    code = sheet.cell(row=2, column=1)
    assert code.data_type == "s" and code.number_format == "@" and len(code.value) > 10
    assert hashlib.sha256(report.pdf).hexdigest() == report.pdf_sha256


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13", "01 到 12"),
        ("2026/05", "格式"),
        ("26-05", "格式"),
        ("2026-Q5", "格式"),
        ("2026-07", "尚未开始"),
        ("2026-Q3", "尚未开始"),
        ("1999-12", "不能早于"),
    ],
)
def test_malformed_and_future_periods_are_refused(value, message):
    with pytest.raises(UserError, match=message) as caught:
        periods.parse(value, date(2026, 6, 20))
    assert caught.value.status == 400


def test_periods():
    quarter = periods.parse("2026-q2", date(2026, 6, 20))
    assert (quarter.kind, quarter.first, quarter.last) == ("quarterly", date(2026, 4, 1),
                                                           date(2026, 6, 30))  # fmt: skip
    assert quarter.label == "2026年第二季度" and quarter.as_of(date(2026, 6, 20)) == date(
        2026, 6, 20
    )
    month = periods.parse("2026-02", date(2026, 6, 20))
    assert month.last == date(2026, 2, 28) and month.label == "2026年2月"


# ---- the pages ----------------------------------------------------------------------------


def post(client, **form):
    token = csrf_token(client.get("/reports").get_data(as_text=True))
    return client.post("/reports", data={"csrf_token": token, **form})


def count_reports(connection) -> int:
    return scalar(connection, "SELECT count(*) FROM report")


def run_jobs(client) -> int:
    from webapp.jobs.worker import Worker

    return Worker(client.application).run_pending()


def last_report(connection) -> int:
    return scalar(connection, "SELECT max(id) FROM report")


def test_the_center_makes_a_report_and_downloads_it(client, auth, connection, may, community):
    auth.login("center")
    response = post(client, period="2026-05", community=community.code)
    assert response.status_code == 303
    job_id = int(re.search(r"job=(\d+)", response.headers["Location"])[1])
    queued = client.get(f"/reports?job={job_id}").get_data(as_text=True)
    assert 'data-job-state="queued"' in queued and f"/reports?job={job_id}" in queued
    assert run_jobs(client) == 1
    done = client.get(f"/reports?job={job_id}", headers=HX).get_data(as_text=True)
    assert 'data-job-state="done"' in done and "已生成" in done
    report_id = last_report(connection)
    assert f'data-report="{report_id}"' in done and community.name in done
    pdf = client.get(f"/reports/{report_id}.pdf")
    assert pdf.mimetype == "application/pdf" and "attachment" in pdf.headers["Content-Disposition"]
    assert f"{community.name}2026年5月月报" in pdf_text(pdf.data)
    xlsx = client.get(f"/reports/{report_id}.xlsx")
    assert load_workbook(io.BytesIO(xlsx.data)).sheetnames[0] == "概况"
    logged = connection.execute(
        text("SELECT action, username FROM audit_log WHERE entity = 'report' AND entity_id = :i"),
        {"i": report_id},
    ).all()
    assert sorted(logged) == [("create", "center"), ("export", "center"), ("export", "center")]
    maker = scalar(connection, "SELECT generated_by_name FROM report WHERE id = :i", i=report_id)
    assert maker == scalar(connection, "SELECT display_name FROM app_user WHERE username='center'")


@pytest.mark.parametrize(
    ("period", "message"), [("2026-07", "尚未开始"), ("2026-5", "格式"), ("", "格式")]
)
def test_bad_periods_get_a_chinese_400_and_nothing_queued(
    client, auth, connection, may, period, message
):
    auth.login("center")
    response = post(client, period=period, community="")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert run_jobs(client) == 0
    assert count_reports(connection) == 0


def test_community_staff_keep_to_their_community(client, auth, connection, may, community):
    other_code = scalar(
        connection, "SELECT code FROM community WHERE id <> :c LIMIT 1", c=community.id
    )
    auth.login("community")
    response = post(client, period="2026-05", community=other_code)
    assert response.status_code == 403
    assert "只能生成本社区的报表" in response.get_data(as_text=True)
    response = post(client, period="2026-05", community="")
    assert response.status_code == 403
    assert "全街道" in response.get_data(as_text=True)
    response = post(client, period="2026-05", community="999999999")
    assert response.status_code == 404
    assert run_jobs(client) == 0
    # Another community's report, made by the center, is not theirs to see or download.
    auth.logout()
    auth.login("center")
    assert post(client, period="2026-05", community=other_code).status_code == 303
    run_jobs(client)
    other_id = last_report(connection)
    auth.logout()
    auth.login("community")
    assert client.get(f"/reports/{other_id}.pdf").status_code == 404
    assert f'data-report="{other_id}"' not in client.get("/reports").get_data(as_text=True)


def test_grid_workers_and_planners_make_no_reports(client, auth):
    for username in ("grid", "planner"):
        auth.login(username)
        assert client.get("/reports").status_code == 403
        auth.logout()


def test_the_same_report_asked_for_twice_at_once_gets_a_409(
    client, auth, connection, may, community
):
    auth.login("center")
    assert post(client, period="2026-05", community=community.code).status_code == 303
    again = post(client, period="2026-05", community=community.code)
    assert again.status_code == 409
    assert "正在生成中" in again.get_data(as_text=True)
    # Another report (the subdistrict's) is not held up.
    assert post(client, period="2026-05", community="").status_code == 303
    assert run_jobs(client) == 2
    assert count_reports(connection) == 2
    # Once made, the report can be made again (every generation is kept).
    assert post(client, period="2026-05", community=community.code).status_code == 303


def test_a_report_being_made_elsewhere_fails_the_job_with_the_reason(
    client, auth, engine, connection, may, community
):
    """The command line (or another worker) making the same report holds its lock: the job
    ends with the 409's reason and keeps nothing."""
    auth.login("center")
    location = post(client, period="2026-05", community=community.code).headers["Location"]
    job_id = int(re.search(r"job=(\d+)", location)[1])
    with engine.connect() as other:
        other.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"report:2026-05:{community.id}"},
        )
        run_jobs(client)
        other.rollback()
    state, message = connection.execute(
        text("SELECT state, message FROM job WHERE id = :i"), {"i": job_id}
    ).one()
    assert state == "failed" and "正在生成中" in message
    assert count_reports(connection) == 0


def test_a_failure_while_making_leaves_no_report(client, auth, connection, may, monkeypatch):
    auth.login("center")

    def broken(html):
        raise RuntimeError("the PDF engine failed")

    monkeypatch.setattr(generate, "html_to_pdf", broken)
    location = post(client, period="2026-05", community="").headers["Location"]
    run_jobs(client)
    page = client.get(location).get_data(as_text=True)
    assert 'data-job-state="failed"' in page
    assert count_reports(connection) == 0
    monkeypatch.undo()
    assert post(client, period="2026-05", community="").status_code == 303  # nothing pending
    run_jobs(client)
    assert count_reports(connection) == 1


# ---- the command --------------------------------------------------------------------------


@pytest.fixture
def gridmap(database_url, monkeypatch):
    from click.testing import CliRunner
    from sqlalchemy import create_engine

    from webapp.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    yield lambda *args: runner.invoke(main, list(args))
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM report"))
    engine.dispose()


def test_the_command_makes_and_keeps_a_report(gridmap, database_url):
    from sqlalchemy import create_engine

    today = clock.today()
    last_month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
    engine = create_engine(database_url)
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM community ORDER BY id LIMIT 1")).scalar()
    result = gridmap("report", "generate", "--month", last_month, "--community", code)
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        row = conn.execute(text("SELECT period, kind, pdf_bytes, generated_by FROM report")).one()
    engine.dispose()
    assert row[:2] == (last_month, "monthly") and row[2] > 1000 and row[3] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "01 到 12"),
        (["--month", "2999-01"], "尚未开始"),
        (["--month", "2026-01", "--quarter", "2026-Q1"], "one of"),
        ([], "one of"),
        (["--month", "2026-01", "--community", "nope"], "没有编码为 nope 的社区"),
        (["--month", "2026-01", "--community", "x", "--all"], "not both"),
    ],
)
def test_the_command_refuses_bad_input_with_a_message(gridmap, args, message):
    result = gridmap("report", "generate", *args)
    assert result.exit_code == 1
    assert message in result.output
