"""统一社会信用代码 (GB 32100-2015) check characters."""

import pytest

from webapp.domain import creditcode
from webapp.domain.creditcode import CreditCodeError

VALID = "91350100M000100Y43"  # a published example


def test_a_valid_code_parses_and_is_normalised():
    assert creditcode.parse(" 91350100m000100y43 ") == VALID


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y44", "第18位校验码错误:按前17位应为“3”"),
        ("91350100M000100Y4", "应为18位,当前为17位"),
        ("9135010OM000100Y43", "第8位“O”无效"),
    ],
)
def test_invalid_codes_name_the_position(code, message):
    with pytest.raises(CreditCodeError) as err:
        creditcode.parse(code)
    assert message in err.value.message


def test_every_single_character_typo_is_caught():
    for position in range(17):
        for other in creditcode.ALPHABET:
            if other == VALID[position]:
                continue
            typo = VALID[:position] + other + VALID[position + 1 :]
            with pytest.raises(CreditCodeError):
                creditcode.parse(typo)
