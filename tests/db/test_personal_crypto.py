"""Personal phones at rest: ciphertext in the database, clear text through the ORM, one key."""

import importlib.util
import re

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from webapp import config, crypto
from webapp.config import PROJECT_ROOT
from webapp.models import PatrolTeam, Place, StaffPerson

MOBILE = re.compile(r"1[3-9]\d{9}")
MIGRATION = PROJECT_ROOT / "migrations/versions/20261127_b0c1d2e3f4a5_encrypt_personal_phones.py"


@pytest.fixture(autouse=True)
def data_key():
    """The key the test database was loaded with (as the app would configure it); restored
    afterwards, since the key is process-wide."""
    saved = crypto._fernet
    crypto.configure(config._data_key())
    yield config._data_key()
    crypto._fernet = saved


def migration():
    spec = importlib.util.spec_from_file_location("encrypt_personal_phones", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_phones_are_ciphertext_in_the_database_and_numbers_through_the_orm(db, connection):
    stored = connection.execute(
        text("SELECT phone FROM staff_person WHERE phone IS NOT NULL ORDER BY id")
    ).scalars()
    stored = list(stored)
    assert stored and all(crypto.is_encrypted(value) for value in stored)
    assert not any(MOBILE.search(value) for value in stored)
    assert connection.execute(
        text(
            "SELECT count(*) FROM staff_person WHERE phone ~ '1[3-9][0-9]{9}'"
            " UNION ALL SELECT count(*) FROM patrol_team WHERE phone ~ '1[3-9][0-9]{9}'"
        )
    ).scalars().all() == [0, 0]
    person = db.scalars(select(StaffPerson).where(StaffPerson.phone.is_not(None)).limit(1)).one()
    assert MOBILE.fullmatch(person.phone)
    # The demo's patrol teams carry their leader's number, readable with the same key.
    team = db.scalars(select(PatrolTeam).where(PatrolTeam.phone.is_not(None)).limit(1)).one()
    officer = db.scalars(
        select(StaffPerson)
        .where(StaffPerson.community_id == team.community_id, StaffPerson.role == "社区民警")
        .order_by(StaffPerson.id)
        .limit(1)
    ).one()
    assert team.leader == officer.name and team.phone == officer.phone


def test_an_orm_write_is_encrypted_and_each_write_differs(db, connection):
    person = db.get(StaffPerson, 1)
    person.phone = "13912345678"
    db.flush()
    first = connection.execute(text("SELECT phone FROM staff_person WHERE id = 1")).scalar()
    assert crypto.is_encrypted(first) and "13912345678" not in first
    assert crypto.decrypt(first) == "13912345678"
    person.phone = "13912345679"
    db.flush()
    person.phone = "13912345678"
    db.flush()
    again = connection.execute(text("SELECT phone FROM staff_person WHERE id = 1")).scalar()
    assert again != first  # randomised: equal numbers cannot be matched in the database
    db.expire_all()
    assert db.get(StaffPerson, 1).phone == "13912345678"


def test_a_wrong_key_fails_loudly_instead_of_returning_garbage(db, connection):
    token = connection.execute(text("SELECT phone FROM staff_person WHERE id = 1")).scalar()
    crypto.configure(Fernet.generate_key().decode())
    with pytest.raises(crypto.DecryptionFailed, match="DATA_KEY differs"):
        crypto.decrypt(token)
    db.expire_all()
    with pytest.raises(crypto.DecryptionFailed):
        db.scalars(select(StaffPerson.phone).where(StaffPerson.id == 1)).one()


def test_a_rotated_key_still_reads_the_old_tokens(connection, data_key):
    token = connection.execute(text("SELECT phone FROM staff_person WHERE id = 1")).scalar()
    new = Fernet.generate_key().decode()
    crypto.configure(f"{new},{data_key}")
    number = crypto.decrypt(token)
    assert MOBILE.fullmatch(number)
    assert Fernet(new.encode()).decrypt(crypto.encrypt(number).encode()).decode() == number


def test_without_a_key_the_error_says_what_to_do():
    crypto.configure(None)
    with pytest.raises(crypto.KeyMissing, match="configure"):
        crypto.encrypt("13812341234")
    with pytest.raises(ValueError, match="Fernet key"):
        crypto.configure("not-a-key")


def test_the_migration_encrypts_clear_numbers_once_and_a_rerun_changes_nothing(connection):
    module = migration()
    tokens = dict(connection.execute(text("SELECT id, phone FROM staff_person")).all())
    connection.execute(text("UPDATE staff_person SET phone = '13800000001' WHERE id = 2"))
    connection.execute(text("UPDATE patrol_team SET phone = '0532-88881234' WHERE id = 1"))
    assert module.encrypt_phones(connection) == 2  # only the clear ones
    assert module.encrypt_phones(connection) == 0  # a re-run leaves tokens alone
    after = dict(connection.execute(text("SELECT id, phone FROM staff_person")).all())
    assert {k: v for k, v in after.items() if k != 2} == {k: v for k, v in tokens.items() if k != 2}
    assert crypto.decrypt(after[2]) == "13800000001"
    team = connection.execute(text("SELECT phone FROM patrol_team WHERE id = 1")).scalar()
    assert crypto.decrypt(team) == "0532-88881234"
    assert all(crypto.decrypt(value) for value in after.values() if value)
    # The downgrade's half: back to clear text, and encrypted again.
    module.decrypt_phones(connection)
    assert connection.execute(text("SELECT phone FROM staff_person WHERE id = 2")).scalar() == (
        "13800000001"
    )
    module.encrypt_phones(connection)
    assert crypto.decrypt(
        connection.execute(text("SELECT phone FROM staff_person WHERE id = 2")).scalar()
    ) == ("13800000001")


PLACE_MIGRATION = (
    PROJECT_ROOT / "migrations/versions/20261207_f4acf1cfce02_place_phones_personal_public_phone.py"
)


def test_place_phones_are_ciphertext_and_their_migration_encrypts_clear_ones_once(db, connection):
    stored = list(connection.execute(text("SELECT phone FROM place WHERE phone IS NOT NULL")))
    assert stored and all(crypto.is_encrypted(value) for (value,) in stored)
    place = db.scalars(select(Place).where(Place.phone.is_not(None)).limit(1)).one()
    assert MOBILE.fullmatch(place.phone)
    spec = importlib.util.spec_from_file_location("place_phones", PLACE_MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    clear = text("UPDATE place SET phone = '13800000002' WHERE id = :i")
    connection.execute(clear, {"i": place.id})
    assert module.encrypt_place_phones(connection) == 1  # only the clear one
    assert module.encrypt_place_phones(connection) == 0  # a re-run leaves tokens alone
    token = connection.execute(
        text("SELECT phone FROM place WHERE id = :i"), {"i": place.id}
    ).scalar()
    assert crypto.decrypt(token) == "13800000002"
    assert module.decrypt_place_phones(connection) == len(stored)
    assert not connection.execute(
        text("SELECT count(*) FROM place WHERE phone LIKE 'gAAAAA%'")
    ).scalar()
