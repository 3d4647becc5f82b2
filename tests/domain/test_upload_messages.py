"""Uploads name the real problem: a code column typed as a number (leading zeros or last digits
lost: refused, not stored as another code), a GeoJSON without a type."""

from tests.helpers import workbook
from webapp.entities import transfer
from webapp.entities.registry import ENTITIES


def test_a_device_code_typed_as_a_number_is_refused_with_a_hint_to_set_text():
    camera = ENTITIES["camera"]
    headers = [c.header for c in transfer.columns(camera)]
    code_at = headers.index("国标编码")
    as_number = [None] * len(headers)
    as_text = [None] * len(headers)
    as_number[code_at] = 37020000001320000001  # Excel keeps 15 significant digits
    as_text[code_at] = "37020000001320000002"
    upload = transfer.read_upload(workbook(headers, [as_number, as_text]), camera)
    first, second = list(upload.rows)
    assert any(column == "国标编码" and "文本" in message for column, message in first.problems), (
        first.problems
    )
    assert "device_code" not in first.values
    assert second.values["device_code"] == "37020000001320000002"
    assert not any(column == "国标编码" for column, _ in second.problems)


def test_code_columns_are_marked_as_such():
    assert {f.name for f in ENTITIES["camera"].fields if f.code} >= {"device_code"}
    assert {f.name for f in ENTITIES["grid"].fields if f.code} >= {"code"}


def test_a_geojson_without_type_is_named_as_such():
    import pytest

    with pytest.raises(transfer.FileRefused) as refused:
        transfer.read_upload(b'{"features": []}', ENTITIES["camera"])
    assert "缺少 type" in refused.value.message and "None" not in refused.value.message
