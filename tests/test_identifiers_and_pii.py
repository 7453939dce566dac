"""Check characters, privacy masks and their vectorised twins.

``puhui.identifiers`` is the scalar reference; ``puhui.load.pii`` (polars expressions used at
load time) and ``schemas.checks`` (vectorised validation rules) must agree with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random

import polars as pl
import pytest

from puhui import identifiers as ids
from puhui.load import pii
from schemas import checks

KEY = b"test-key-not-secret"
GB_EXAMPLE_ID = "11010519491231002X"  # the worked example of GB 11643-1999
USCC_EXAMPLE = "91350100M000100Y43"
DIGITS = "0123456789"


def mod11_2(first17: str) -> str:
    """ISO 7064 MOD 11-2 from its definition: weights 2^(17-i) mod 11, check (12 - S) mod 11."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def rule_values(rule, values: list[str | None]) -> list[bool | None]:
    frame = pl.DataFrame({"v": pl.Series(values, dtype=pl.String)})
    return frame.select(rule(pl.col("v")).alias("r"))["r"].to_list()


def is_real_date(yyyymmdd: str) -> bool:
    """A proleptic Gregorian date (year 0000 is a leap year like 2000, as polars has it)."""
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    try:
        dt.date(year or 2000, month, day)
    except ValueError:
        return False
    return True


# --- GB 11643 resident ID ----------------------------------------------------------------


def test_gb_example_id_is_valid() -> None:
    assert ids.is_valid_id(GB_EXAMPLE_ID)
    assert ids.id_check_char(GB_EXAMPLE_ID[:17]) == "X"


@pytest.mark.parametrize(
    "first17",
    [
        "44052418800101001",
        "33060219800615001",
        "33068219950229002",
        "00000000000000000",
        "99999999999999999",
        "33060420140101123",
    ],
)
def test_id_check_char_matches_mod_11_2_definition(first17: str) -> None:
    assert ids.id_check_char(first17) == mod11_2(first17)
    assert ids.is_valid_id(first17 + mod11_2(first17))


def test_id_check_char_covers_every_remainder() -> None:
    rng = random.Random(11643)
    seen = set()
    for _ in range(2000):
        first17 = "".join(rng.choices(DIGITS, k=17))
        assert ids.id_check_char(first17) == mod11_2(first17)
        seen.add(ids.id_check_char(first17))
    assert seen == set("10X98765432")


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check character
        "11010519491231002x",  # check character must be upper-case X
        "11010519491231002",  # 17 characters
        "11010519491231002X0",  # 19 characters
        "1101051949123100AX",  # letter in the body
        "X10105194912310021",  # X is only allowed last
        "",
    ],
)
def test_invalid_ids(number: str) -> None:
    assert not ids.is_valid_id(number)


def test_every_single_digit_error_in_an_id_is_detected() -> None:
    for pos in range(17):
        for d in DIGITS:
            if d != GB_EXAMPLE_ID[pos]:
                changed = GB_EXAMPLE_ID[:pos] + d + GB_EXAMPLE_ID[pos + 1 :]
                assert not ids.is_valid_id(changed), changed


def test_id_with_non_ascii_digits_is_invalid() -> None:
    assert not ids.is_valid_id("１１０１０５１９４９１２３１００２X")  # full-width digits
    assert not ids.is_valid_id("²" * 17 + "X")


# --- Luhn ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
        ("5500005555555559", True),
        ("6011000990139424", True),
        ("0", False),  # too short to carry a check digit
        ("", False),
        ("4111-1111-1111-1111", False),
    ],
)
def test_luhn_known_numbers(number: str, valid: bool) -> None:
    assert ids.is_valid_luhn(number) is valid


def test_luhn_check_digit_of_textbook_example() -> None:
    assert ids.luhn_check_digit("7992739871") == "3"
    assert ids.luhn_check_digit("411111111111111") == "1"


def test_vectorised_luhn_agrees_with_the_reference_on_every_length() -> None:
    """The table-driven check (four digits per lookup) against the scalar reference, on
    valid and invalid numbers of 13 to 19 digits, including all-nines (UInt64's edge)."""
    rng = random.Random(19)
    numbers = ["9" * 19, "0" * 13, "1" * 19]
    for length in range(13, 20):
        for _ in range(300):
            partial = "".join(rng.choices(DIGITS, k=length - 1))
            numbers.append(partial + ids.luhn_check_digit(partial))
            numbers.append(partial + rng.choice(DIGITS))
    got = pl.DataFrame({"n": numbers}).select(checks.card_checksum_luhn(pl.col("n"))).to_series()
    assert got.to_list() == [ids.is_valid_luhn(n) for n in numbers]


def test_generated_622858_card_is_valid_and_single_digit_errors_are_detected() -> None:
    rng = random.Random(622858)
    partial = "622858" + "".join(rng.choices(DIGITS, k=12))
    card = partial + ids.luhn_check_digit(partial)
    assert len(card) == 19 and card.startswith("622858")
    assert ids.is_valid_luhn(card)
    for pos in range(19):
        for d in DIGITS:
            if d != card[pos]:
                assert not ids.is_valid_luhn(card[:pos] + d + card[pos + 1 :])
    # adjacent transpositions are caught too, except 09 <-> 90
    for pos in range(18):
        a, b = card[pos], card[pos + 1]
        if a != b and {a, b} != {"0", "9"}:
            swapped = card[:pos] + b + a + card[pos + 2 :]
            assert not ids.is_valid_luhn(swapped)


# --- GB 32100 unified social credit code -------------------------------------------------


def test_uscc_example_valid() -> None:
    assert ids.is_valid_uscc(USCC_EXAMPLE)
    assert ids.uscc_check_char(USCC_EXAMPLE[:17]) == "3"


def test_every_single_character_change_of_a_uscc_is_invalid() -> None:
    changed = 0
    for pos in range(18):
        for ch in ids.USCC_ALPHABET:
            if ch != USCC_EXAMPLE[pos]:
                assert not ids.is_valid_uscc(USCC_EXAMPLE[:pos] + ch + USCC_EXAMPLE[pos + 1 :])
                changed += 1
    assert changed == 18 * 30


@pytest.mark.parametrize("bad", ["I", "O", "S", "V", "Z", "a", "-"])
def test_uscc_characters_outside_the_alphabet_are_invalid(bad: str) -> None:
    assert not ids.is_valid_uscc(USCC_EXAMPLE[:9] + bad + USCC_EXAMPLE[10:])


def test_uscc_wrong_length_is_invalid() -> None:
    assert not ids.is_valid_uscc(USCC_EXAMPLE[:17])
    assert not ids.is_valid_uscc(USCC_EXAMPLE + "0")


# --- keyed hash --------------------------------------------------------------------------


def test_keyed_hash_is_deterministic_per_key_and_hides_the_value() -> None:
    a = ids.keyed_hash(GB_EXAMPLE_ID, KEY)
    assert a == ids.keyed_hash(GB_EXAMPLE_ID, KEY)
    assert len(a) == 32 and all(c in "0123456789abcdef" for c in a)
    assert a != ids.keyed_hash(GB_EXAMPLE_ID, b"another-key")
    assert a != ids.keyed_hash(GB_EXAMPLE_ID[:17] + "0", KEY)
    assert GB_EXAMPLE_ID not in a and GB_EXAMPLE_ID[:6] not in a
    # HMAC, not a bare hash of value or key+value
    assert a != hashlib.sha256(GB_EXAMPLE_ID.encode()).hexdigest()[:32]
    assert a != hashlib.sha256(KEY + GB_EXAMPLE_ID.encode()).hexdigest()[:32]


def test_keyed_hash_hashes_utf8_of_chinese_names() -> None:
    full = hmac.new(KEY, "张三".encode(), hashlib.sha256).hexdigest()
    assert ids.keyed_hash("张三", KEY) == full[:32]  # HMAC-SHA256's leftmost 128 bits
    assert ids.keyed_hash("张三", KEY) != ids.keyed_hash("张四", KEY)


# --- scalar masks ------------------------------------------------------------------------


def test_mask_id_keeps_region_and_last_four() -> None:
    assert ids.mask_id(GB_EXAMPLE_ID) == "110105********002X"
    assert len(ids.mask_id(GB_EXAMPLE_ID)) == 18


def test_mask_name() -> None:
    assert ids.mask_name("张三丰") == "张**"
    assert ids.mask_name("李四") == "李*"
    assert ids.mask_name("王") == "王"


def test_mask_phone() -> None:
    assert ids.mask_phone("13812345678") == "138****5678"


def test_mask_card_keeps_bin_and_last_four() -> None:
    assert ids.mask_card("6228480402564890018") == "622848*********0018"
    assert ids.mask_card("4111111111111111") == "411111******1111"


# --- polars expressions of load/pii.py agree with the scalar functions -------------------


def _people_frame() -> pl.DataFrame:
    male = "33060219800615001"  # 17th digit 1: male
    female = "33068219950301002"  # 17th digit 2: female
    return pl.DataFrame(
        {
            "id_no": [
                GB_EXAMPLE_ID,
                male + ids.id_check_char(male),
                female + ids.id_check_char(female),
                "33060420140101123" + ids.id_check_char("33060420140101123"),
            ],
            "name": ["张三丰", "李四", "王", "欧阳娜娜"],
            "mobile": ["13812345678", "19900001111", None, "15057571234"],
            "card": ["6228480402564890018", "4111111111111111", "6228580000000000000", None],
        }
    )


def test_pii_expressions_match_scalar_functions() -> None:
    df = _people_frame()
    out = df.select(
        pii.masked_id("id_no").alias("masked_id"),
        pii.birth_year("id_no").alias("birth_year"),
        pii.gender("id_no").alias("gender"),
        pii.id_region("id_no").alias("id_region"),
        pii.masked_name("name").alias("masked_name"),
        pii.masked_phone("mobile").alias("masked_phone"),
        pii.masked_card("card").alias("masked_card"),
    )
    rows = df.to_dicts()
    assert out["masked_id"].to_list() == [ids.mask_id(r["id_no"]) for r in rows]
    assert out["birth_year"].to_list() == [int(r["id_no"][6:10]) for r in rows]
    assert out["id_region"].to_list() == [r["id_no"][:6] for r in rows]
    assert out["masked_name"].to_list() == [ids.mask_name(r["name"]) for r in rows]
    assert out["masked_phone"].to_list() == [
        None if r["mobile"] is None else ids.mask_phone(r["mobile"]) for r in rows
    ]
    assert out["masked_card"].to_list() == [
        None if r["card"] is None else ids.mask_card(r["card"]) for r in rows
    ]
    # literal expectations, so an error shared by both implementations still shows
    assert out["birth_year"].to_list() == [1949, 1980, 1995, 2014]
    assert out["gender"].to_list() == ["F", "M", "F", "M"]  # 17th digit 2, 1, 2, 3
    assert out["masked_name"].to_list() == ["张**", "李*", "王", "欧***"]
    assert out["masked_phone"].to_list() == ["138****5678", "199****1111", None, "150****1234"]


def test_gender_follows_parity_of_17th_digit() -> None:
    first16 = "3306221980061500"
    numbers = [first16 + d + ids.id_check_char(first16 + d) for d in DIGITS]
    out = pl.DataFrame({"id_no": numbers}).select(pii.gender("id_no").alias("g"))["g"].to_list()
    assert out == ["F", "M"] * 5


def test_hmac_series_equals_keyed_hash_and_keeps_nulls() -> None:
    values = pl.Series("v", ["张三", None, GB_EXAMPLE_ID, "张三", "", None], dtype=pl.String)
    hashed = pii.hmac_series(values, KEY)
    assert hashed.dtype == pl.String
    assert hashed.to_list() == [
        None if v is None else ids.keyed_hash(v, KEY) for v in values.to_list()
    ]
    assert hashed[0] == hashed[3] and hashed[1] is None and hashed[5] is None
    assert hashed[0] != pii.hmac_series(values, b"other")[0]


def test_hmac_series_of_only_nulls_and_of_nothing() -> None:
    assert pii.hmac_series(pl.Series("v", [None, None], dtype=pl.String), KEY).to_list() == [
        None,
        None,
    ]
    assert pii.hmac_series(pl.Series("v", [], dtype=pl.String), KEY).to_list() == []


# --- schemas.checks agree with identifiers.py on random values ---------------------------


def _random_ids(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        kind = rng.random()
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 33000))
        if kind < 0.3:  # valid ID with a real birth date
            first17 = (
                rng.choice(["330622", "330682", "330604", "341222"])
                + f"{born:%Y%m%d}"
                + "".join(rng.choices(DIGITS, k=3))
            )
            out.append(first17 + ids.id_check_char(first17))
        elif kind < 0.5:  # random digits: mostly impossible dates, check char right
            first17 = "".join(rng.choices(DIGITS, k=17))
            out.append(first17 + ids.id_check_char(first17))
        elif kind < 0.75:  # anything in the check position
            out.append("".join(rng.choices(DIGITS, k=17)) + rng.choice("0123456789X"))
        elif kind < 0.85:  # wrong length
            out.append("".join(rng.choices(DIGITS, k=rng.choice([15, 16, 17, 19]))))
        else:  # a stray letter or lower-case x
            s = list("".join(rng.choices(DIGITS, k=17)) + rng.choice("Xx"))
            s[rng.randrange(18)] = rng.choice("AxX ")
            out.append("".join(s))
    return out


def test_vectorised_id_checks_agree_with_scalar_reference() -> None:
    rng = random.Random(20160101)
    values = _random_ids(rng, 1000)
    fmt = rule_values(checks.id_format_gb11643, values)
    chk = rule_values(checks.id_checksum_gb11643, values)
    n_valid = 0
    for v, f, c in zip(values, fmt, chk, strict=True):
        shaped = len(v) == 18 and v[:17].isdigit() and v[17] in "0123456789X"
        assert c == (ids.is_valid_id(v) if shaped else None), v
        assert f == (shaped and is_real_date(v[6:14])), v
        n_valid += bool(f and c)
    assert 250 < n_valid < 600  # both outcomes are well represented
    assert rule_values(checks.id_checksum_gb11643, [None]) == [None]


def test_vectorised_luhn_agrees_with_scalar_reference() -> None:
    rng = random.Random(622858)
    values = []
    for _ in range(1000):
        partial = "".join(rng.choices(DIGITS, k=rng.randint(10, 21)))
        if rng.random() < 0.5:
            values.append(partial + ids.luhn_check_digit(partial))
        else:
            values.append(partial + rng.choice(DIGITS))
    values += ["4111x11111111111", "41111111111 1111"]
    fmt = rule_values(checks.card_format, values)
    chk = rule_values(checks.card_checksum_luhn, values)
    n_valid = 0
    for v, f, c in zip(values, fmt, chk, strict=True):
        shaped = v.isascii() and v.isdigit() and 13 <= len(v) <= 19
        assert f == shaped, v
        assert c == (ids.is_valid_luhn(v) if shaped else None), v
        n_valid += bool(f and c)
    assert 200 < n_valid < 600


def test_vectorised_uscc_checks_agree_with_scalar_reference() -> None:
    rng = random.Random(32100)
    alphabet = ids.USCC_ALPHABET
    values = []
    for _ in range(1000):
        first17 = (
            "".join(rng.choices(alphabet, k=2))
            + "".join(rng.choices(DIGITS if rng.random() < 0.9 else alphabet, k=6))
            + "".join(rng.choices(alphabet, k=9))
        )
        kind = rng.random()
        if kind < 0.5:
            values.append(first17 + ids.uscc_check_char(first17))
        elif kind < 0.85:
            values.append(first17 + rng.choice(alphabet))
        else:
            values.append(first17 + rng.choice("IOSVZ") if kind < 0.95 else first17)
    fmt = rule_values(checks.uscc_format_gb32100, values)
    chk = rule_values(checks.uscc_checksum_gb32100, values)
    n_valid = 0
    for v, f, c in zip(values, fmt, chk, strict=True):
        shaped = len(v) == 18 and all(ch in alphabet for ch in v) and v[2:8].isdigit()
        assert f == shaped, v
        assert c == (ids.is_valid_uscc(v) if shaped else None), v
        n_valid += bool(f and c)
    assert 300 < n_valid < 600


def test_vectorised_rules_reject_non_ascii_digits() -> None:
    full_width_card = "４１１１１１１１１１１１１１１１"
    assert not ids.is_valid_luhn(full_width_card)
    assert rule_values(checks.card_format, [full_width_card]) == [False]
    full_width_uscc = "9135０100M000100Y43"
    assert not ids.is_valid_uscc(full_width_uscc)
    assert rule_values(checks.uscc_format_gb32100, [full_width_uscc]) == [False]
