import pytest

from webapp.domain import gb28181
from webapp.domain.gb28181 import DeviceCodeError

VALID = "34020000001320000001"


def test_the_standard_example_parses_into_its_groups():
    code = gb28181.parse(VALID)
    assert (code.centre, code.industry, code.device_type, code.network, code.serial) == (
        "34020000",
        "00",
        "132",
        "0",
        "000001",
    )
    assert code.type_name == "网络摄像机(IPC)"
    assert code.industry_name == "社会治安路面接入"
    assert str(code) == VALID


@pytest.mark.parametrize(
    ("code", "part", "words"),
    [
        ("3402000000132000001", "length", "当前为19位"),
        ("340200000013200000011", "length", "当前为21位"),
        ("3402000000132000000A", "serial", "第20位(序号)是非数字字符“A”"),
        ("34020000 01320000001", "industry", "第9位(行业编码)"),
        ("340200000X1320000001", "industry", "第10位(行业编码)"),
        ("３4020000001320000001", "centre", "第1位(中心编码)"),  # a full-width digit
        ("00020000001320000001", "centre", "第1–8位"),
        ("34020000201320000001", "industry", "第9–10位"),
        ("34020000009990000001", "type", "第11–13位"),
        ("34020000001180000001", "type", "不是摄像机"),
        ("34020000001329000001", "network", "第14位"),
        ("", "code", "请填写"),
    ],
)
def test_a_bad_code_is_refused_naming_the_bad_part(code, part, words):
    with pytest.raises(DeviceCodeError) as err:
        gb28181.parse(code)
    assert err.value.part == part
    assert words in err.value.message


def test_enterprise_and_resident_industry_ranges_are_valid():
    assert gb28181.parse("37021400451310000001").industry_name == "企业/事业单位"
    assert gb28181.parse("37021400851310000001").industry_name == "居民自建"


def test_non_camera_types_pass_when_not_asking_for_a_camera():
    assert gb28181.parse("34020000001180000001", camera=False).type_name.startswith(
        "网络视频录像机"
    )


def test_validation_error_is_none_for_a_valid_code():
    assert gb28181.validation_error(VALID) is None
    assert "20位" in gb28181.validation_error("123")
