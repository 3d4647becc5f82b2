import pytest

from webapp.domain.party import party_org_type


@pytest.mark.parametrize(
    ("members", "kind"),
    [(0, "党支部"), (49, "党支部"), (50, "党总支"), (99, "党总支"), (100, "党委"), (500, "党委")],
)
def test_party_organisation_type_at_its_thresholds(members, kind):
    assert party_org_type(members) == kind
