"""GB 11643-1999 citizen ID numbers: check digit (X included), positions named, derived fields."""

from datetime import date

import pytest

from webapp.domain import idcard
from webapp.domain.idcard import IdNumberError

VALID = "11010519491231002X"  # the standard's example: check digit X (10)


def with_check(first17: str) -> str:
    return first17 + idcard.check_digit(first17)


VALID_MALE = with_check("37021419800101001")  # invented, 17th digit odd


def test_the_standards_example_with_x_parses():
    card = idcard.parse(VALID)
    assert card.birth_date == date(1949, 12, 31)
    assert card.sex == "女"  # 17th digit 2: even
    assert card.region == "110105"


def test_a_lower_case_x_and_spaces_are_accepted():
    assert idcard.parse(" 11010519491231002x ").number == VALID


def test_a_male_number():
    card = idcard.parse(VALID_MALE)
    assert (card.sex, card.birth_date) == ("男", date(1980, 1, 1))


def test_check_digit_computed_by_the_weights():
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167, 167 % 11 = 2
    assert idcard.check_digit("11010519491231002") == "X"
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+1*2 = 165 → 0 → "1"
    assert idcard.check_digit("11010519491231001") == "1"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("110105194912310021", "第18位校验码错误:按前17位应为“X”,输入的是“1”"),
        ("11010519491231002", "应为18位,当前为17位"),
        ("11010519491231002X1", "应为18位,当前为19位"),
        ("1101051949123100AX", "第17位“A”不是数字"),
        ("11010519491231002Y", "第18位(校验码)“Y”只能是数字或X"),
        ("99010519491231002X", "第1-2位“99”不是有效的省级行政区划代码"),
        (with_check("11010519490230002"), "第7-14位出生日期“19490230”不是有效日期"),
        (with_check("11010518991231002"), "早于1900年"),
    ],
)
def test_invalid_numbers_name_the_wrong_position(number, fragment):
    with pytest.raises(IdNumberError) as err:
        idcard.parse(number)
    assert fragment in err.value.message
    assert err.value.status == 422


def test_a_birth_date_in_the_future_is_refused():
    number = with_check("37021420990101001")
    with pytest.raises(IdNumberError, match="晚于今天"):
        idcard.parse(number, today=date(2026, 12, 7))
    assert idcard.parse(number).birth_date == date(2099, 1, 1)  # no today: not checked


def test_every_single_digit_typo_is_caught():
    """A mistyped digit anywhere changes the weighted sum mod 11 (every weight is prime to
    11), so the check digit no longer matches."""
    for position in range(17):
        digit = VALID_MALE[position]
        for other in "0123456789":
            if other == digit:
                continue
            typo = VALID_MALE[:position] + other + VALID_MALE[position + 1 :]
            try:
                idcard.parse(typo)
            except IdNumberError:
                continue
            pytest.fail(f"{typo} passed")


def test_typed_sex_or_birth_date_that_contradicts_the_number_is_refused():
    card = idcard.parse(VALID)
    idcard.check_against(card, sex="女", birth_date=date(1949, 12, 31))
    idcard.check_against(card, sex=None, birth_date=None)
    with pytest.raises(IdNumberError, match="性别“男”与身份证号不符:第17位为偶数,应为“女”"):
        idcard.check_against(card, sex="男", birth_date=None)
    with pytest.raises(IdNumberError, match="出生日期 1950-01-01 与身份证号第7-14位"):
        idcard.check_against(card, sex=None, birth_date=date(1950, 1, 1))


def test_masks():
    assert idcard.mask("110105194912310021") == "1101**********0021"
    assert idcard.mask(VALID) == "1101**********002X"
    assert idcard.mask_name("张三") == "张*"
    assert idcard.mask_name("欧阳小明") == "欧***"
    assert idcard.mask_name("李") == "*"
