"""Community party organisation type (社区党组织类型), from its membership.

「党员100名以上的设立党委,50名以上的设立党总支,不足50名的设立党支部」.
"""

PARTY_COMMITTEE_MIN = 100  # 党委
GENERAL_BRANCH_MIN = 50  # 党总支


def party_org_type(party_members: int) -> str:
    if party_members >= PARTY_COMMITTEE_MIN:
        return "党委"
    if party_members >= GENERAL_BRANCH_MIN:
        return "党总支"
    return "党支部"


def party_org_type_sql(column: str) -> str:
    """The same rule as a SQL expression, for the generated column."""
    return (
        f"CASE WHEN {column} >= {PARTY_COMMITTEE_MIN} THEN '党委' "
        f"WHEN {column} >= {GENERAL_BRANCH_MIN} THEN '党总支' ELSE '党支部' END"
    )
