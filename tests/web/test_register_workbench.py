"""The 工作台 lists the grid worker's visits due, as the register counts them."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp import clock
from webapp.models import User
from webapp.register.queries import visits_due


def test_the_workbench_shows_the_visits_due(client, auth, connection):
    auth.login("grid")
    page = client.get("/field").get_data(as_text=True)
    with Session(bind=connection) as session:
        user = session.scalars(select(User).where(User.username == "grid")).one()
        due = visits_due(session, user, clock.today())
    assert due, "the demo gives the grid worker's grid people to visit"
    assert "待走访" in page and f">{len(due)}<" in page.replace(" ", "")
    assert f"/register/person/{due[0].person_id}/care" in page
