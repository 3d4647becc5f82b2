"""Password rules of the security baseline (等保 2.0 level 3), as plain functions.

A password has at least ``min_length`` characters (8 by default) from at least ``min_classes``
(3) of the four classes: lower-case letters, upper-case letters, digits, other characters; it is
not the user name; and it is at most MAX_LENGTH characters (a very long password only costs the
hasher time). Passwords expire after ``max_age_days`` (90).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MAX_LENGTH = 128
CLASS_NAMES = ("小写字母", "大写字母", "数字", "特殊字符")


def character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def problems(password: str, *, username: str = "", min_length: int = 8, min_classes: int = 3):
    """What is wrong with a new password, in Chinese; empty when it is acceptable."""
    found = []
    if len(password) < min_length:
        found.append(f"密码至少 {min_length} 位。")
    if len(password) > MAX_LENGTH:
        found.append(f"密码最多 {MAX_LENGTH} 位。")
    if character_classes(password) < min_classes:
        found.append(f"密码须包含{'、'.join(CLASS_NAMES)}中的至少 {min_classes} 类。")
    if username and password.strip().lower() == username.strip().lower():
        found.append("密码不能与用户名相同。")
    return found


def expired(changed_at: datetime | None, max_age_days: int, now: datetime | None = None) -> bool:
    """Whether a password set at ``changed_at`` is past its age (never, when max_age_days is
    0 or it was never changed by its owner: then ``must_change_password`` governs)."""
    if not max_age_days or changed_at is None:
        return False
    return (now or datetime.now(UTC)) - changed_at > timedelta(days=max_age_days)
