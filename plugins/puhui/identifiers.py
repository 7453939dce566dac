"""Check digits of Chinese identifiers and the privacy transforms applied at load time.

Scalar reference implementations: the simulator uses them to make valid numbers, tests use
them to cross-check the vectorised checks in ``schemas/checks.py``.
"""

from __future__ import annotations

import hashlib
import hmac

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def is_valid_id(number: str) -> bool:
    head = number[:17]
    return (
        len(number) == 18
        and head.isascii()
        and head.isdigit()
        and id_check_char(head) == number[17]
    )


def luhn_check_digit(partial: str) -> str:
    """The Luhn digit to append to ``partial``."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # positions that get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid_luhn(number: str) -> bool:
    return (
        number.isascii()
        and number.isdigit()
        and len(number) >= 2
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def org_code_check_char(first8: str) -> str:
    """GB 11714 organisation-code check character (position 17 of a USCC)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))  # A=10..Z=35
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 unified social credit code check character."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    return (
        len(code) == 18
        and all(c in USCC_ALPHABET for c in code)
        and uscc_check_char(code[:17]) == code[17]
    )


# --- privacy transforms -------------------------------------------------------------------


HASH_HEX_CHARS = 32
"""Keyed hashes are HMAC-SHA256 truncated to 128 bits (RFC 2104 section 5 allows keeping
the leftmost bits; NIST SP 800-107 asks for at least 64): collisions among even a billion
values stay out of reach, and half the hex digits are half the bytes every raw row, COPY
and join carries."""


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 truncated to 128 bits, as 32 hex digits: a stable join key that cannot
    be reversed without the key."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:HASH_HEX_CHARS]


def mask_id(number: str) -> str:
    """Resident ID: first 6 (region) and last 4 kept."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str) -> str:
    """Surname kept, given name starred: 张三丰 -> 张**."""
    return name[:1] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """Mobile: first 3 and last 4 kept (138****5678)."""
    return phone[:3] + "****" + phone[-4:]


def mask_card(card: str) -> str:
    """Card: first 6 (BIN) and last 4 kept."""
    return card[:6] + "*" * (len(card) - 10) + card[-4:]
