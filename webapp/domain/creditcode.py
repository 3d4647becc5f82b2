"""统一社会信用代码 (GB 32100-2015): the 18-character code of a company or organisation.

Characters come from the digits and the upper-case letters without I, O, Z, S, V; the last is a
check character: 31 minus the weighted sum (weights 3^i mod 31) of the first 17, mod 31. Pure;
messages in Chinese name the wrong position.
"""

from __future__ import annotations

from gis.errors import UserError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class CreditCodeError(UserError):
    status = 422


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def parse(code: str | None) -> str:
    """The code, upper-cased and without spaces, if valid.

    Raises:
        CreditCodeError: naming the position that is wrong.
    """
    text = "".join((code or "").split()).upper()
    if len(text) != 18:
        raise CreditCodeError(f"统一社会信用代码应为18位,当前为{len(text)}位。")
    for position, char in enumerate(text, 1):
        if char not in ALPHABET:
            raise CreditCodeError(
                f"统一社会信用代码第{position}位“{char}”无效(只能是数字或除I、O、Z、S、V外的大写字母)。"
            )
    expected = check_character(text[:17])
    if text[17] != expected:
        raise CreditCodeError(
            f"统一社会信用代码第18位校验码错误:按前17位应为“{expected}”,输入的是“{text[17]}”。"
        )
    return text
