"""居民身份证号码 (GB 11643-1999): check an 18-digit number and read what it says.

The number is a 6-digit address code, an 8-digit birth date (YYYYMMDD), a 3-digit sequence
(odd for men, even for women) and a check digit: the first 17 digits weighted by 7 9 10 5 8 4 2
1 6 3 7 9 10 5 8 4 2, summed, taken mod 11 and mapped to 1 0 X 9 8 7 6 5 4 3 2 (ISO 7064
MOD 11-2, X standing for 10). Pure: no Flask, no database; messages are for the user, in
Chinese, and name the position that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gis.errors import UserError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CODES = "10X98765432"  # indexed by the weighted sum mod 11
EARLIEST_BIRTH = date(1900, 1, 1)
# Province-level codes of GB/T 2260 (the first two digits), 71 台湾, 81 香港, 82 澳门, and
# 83 for the residence permits of Taiwan residents; 91 is not issued on the mainland.
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
MALE = "男"
FEMALE = "女"


class IdNumberError(UserError):
    """A number that is not a valid GB 11643-1999 citizen ID (or contradicts what was typed)."""

    status = 422


@dataclass(frozen=True)
class IdCard:
    number: str  # 18 characters, a final x upper-cased
    region: str  # the 6-digit address code
    birth_date: date
    sex: str  # 男 / 女


def check_digit(first17: str) -> str:
    """The check character (0-9 or X) of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CODES[total % 11]


def normalise(number: str | None) -> str:
    """Spaces dropped and a final x upper-cased, as people type and spreadsheets store it."""
    return "".join((number or "").split()).upper()


def parse(number: str | None, today: date | None = None) -> IdCard:
    """Check ``number`` and return what it encodes.

    Args:
        today: the date a birth date may not be after (webapp.clock.today() in the app).

    Raises:
        IdNumberError: with a message naming the wrong position.
    """
    text = normalise(number)
    if len(text) != 18:
        raise IdNumberError(f"身份证号应为18位,当前为{len(text)}位。")
    for position, char in enumerate(text[:17], 1):
        if not char.isascii() or not char.isdigit():
            raise IdNumberError(f"身份证号第{position}位“{char}”不是数字(前17位都应是数字)。")
    if not (text[17].isascii() and text[17].isdigit()) and text[17] != "X":
        raise IdNumberError(f"身份证号第18位(校验码)“{text[17]}”只能是数字或X。")
    if int(text[:2]) not in PROVINCES:
        raise IdNumberError(f"身份证号第1-2位“{text[:2]}”不是有效的省级行政区划代码。")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise IdNumberError(f"身份证号第7-14位出生日期“{text[6:14]}”不是有效日期。") from None
    if born < EARLIEST_BIRTH:
        raise IdNumberError(f"身份证号第7-14位出生日期“{text[6:14]}”早于1900年,请核对。")
    if today is not None and born > today:
        raise IdNumberError(f"身份证号第7-14位出生日期“{text[6:14]}”晚于今天,请核对。")
    expected = check_digit(text[:17])
    if text[17] != expected:
        raise IdNumberError(
            f"身份证号第18位校验码错误:按前17位应为“{expected}”,输入的是“{text[17]}”。"
            "请逐位核对号码。"
        )
    return IdCard(text, text[:6], born, MALE if int(text[16]) % 2 else FEMALE)


def check_against(card: IdCard, *, sex: str | None, birth_date: date | None) -> None:
    """Refuse a typed sex or birth date that the ID number contradicts (empty is fine: the
    number supplies it)."""
    if sex and sex != card.sex:
        raise IdNumberError(
            f"填写的性别“{sex}”与身份证号不符:第17位为"
            f"{'奇数' if card.sex == MALE else '偶数'},应为“{card.sex}”。"
        )
    if birth_date and birth_date != card.birth_date:
        raise IdNumberError(
            f"填写的出生日期 {birth_date.isoformat()} 与身份证号第7-14位"
            f"({card.birth_date.isoformat()})不符。"
        )


def mask(number: str | None) -> str | None:
    """The first 4 and last 4 characters, the middle hidden: 1101**********1234."""
    if number is None:
        return None
    text = normalise(number)
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_name(name: str | None) -> str | None:
    """A person's name with the surname kept: 张*, 欧阳**; a single character stays hidden."""
    if name is None:
        return None
    text = name.strip()
    if len(text) <= 1:
        return "*" * len(text)
    # Compound surnames (欧阳, 司马 …) are rare; keeping one character hides enough either way.
    return text[0] + "*" * (len(text) - 1)
