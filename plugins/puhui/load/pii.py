"""Personal-information transforms applied before anything reaches the warehouse.

Raw ID, name, phone and card values are replaced by a keyed hash (HMAC-SHA256 with the key
from ``PUHUI_PII_KEY``, truncated to 128 bits: ``identifiers.HASH_HEX_CHARS``), a masked
display form, and safe derived attributes. Only these columns are written to ``raw``; the
raw values stay in the landing files (and in ``quarantine.rejected_rows.raw_line`` for
rejected rows, a restricted schema).
"""

from __future__ import annotations

import hashlib

import polars as pl

from puhui.identifiers import HASH_HEX_CHARS


def hmac_series(values: pl.Series, key: bytes) -> pl.Series:
    """Keyed hash of each value (nulls stay null); repeated values are hashed once.

    HMAC-SHA256 written out with the key's inner and outer SHA-256 states computed once
    (RFC 2104): the same digests as ``hmac.new``, a third of the cost per value, which
    matters for the half million card and account numbers of a day's journal. (Keeping
    digests across the chunks of a batch does not pay: a lookup in a dict of half a
    million entries costs about as much as the digest.)
    """
    uniques = values.drop_nulls().unique()
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(value: str) -> str:
        i = inner.copy()
        i.update(value.encode("utf-8"))
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()[:HASH_HEX_CHARS]

    hashes = pl.Series([digest(v) for v in uniques.to_list()], dtype=pl.String)
    # A hash join maps the values back to their digests in about half the time of
    # ``replace_strict`` with a mapping of a quarter of a million entries.
    mapping = pl.DataFrame({"value": uniques, "hash": hashes})
    return (
        values.rename("value")
        .to_frame()
        .join(mapping, on="value", how="left", maintain_order="left")["hash"]
        .rename(values.name)
    )


def masked_id(col: str) -> pl.Expr:
    return pl.col(col).str.slice(0, 6) + pl.lit("********") + pl.col(col).str.slice(14, 4)


def birth_year(col: str) -> pl.Expr:
    return pl.col(col).str.slice(6, 4).cast(pl.Int16)


def gender(col: str) -> pl.Expr:
    """GB 11643: the 17th digit is odd for men, even for women."""
    digit = pl.col(col).str.slice(16, 1).cast(pl.Int8, strict=False)
    return pl.when(digit % 2 == 1).then(pl.lit("M")).when(digit % 2 == 0).then(pl.lit("F"))


def id_region(col: str) -> pl.Expr:
    return pl.col(col).str.slice(0, 6)


def masked_name(col: str) -> pl.Expr:
    """Surname kept, every other character starred."""
    return pl.col(col).str.slice(0, 1) + pl.lit("*").repeat_by(
        pl.col(col).str.len_chars() - 1
    ).list.join("")


def masked_phone(col: str) -> pl.Expr:
    return pl.col(col).str.slice(0, 3) + pl.lit("****") + pl.col(col).str.slice(7, 4)


# Longer than any card or account number, so its prefixes give every run of stars needed.
_STARS = "*" * 64


def masked_card(col: str) -> pl.Expr:
    """First 6 and last 4 characters kept, the middle starred (one star per character).

    Slicing a constant run of stars, rather than ``repeat_by`` and ``list.join``, avoids
    building a list per row: it halves the cost on a day's journal.
    """
    middle = (pl.col(col).str.len_chars().cast(pl.Int64) - 10).clip(lower_bound=0)
    return (
        pl.col(col).str.slice(0, 6)
        + pl.lit(_STARS).str.slice(0, middle)
        + pl.col(col).str.slice(-4, 4)
    )


# --- the columns that replace a personal field in a raw table ------------------------------
# Each returns expressions (and the hash Series) for ``DataFrame.select``, named after the
# raw tables' convention: ``<prefix>_hash``, ``<prefix>_masked`` and derived attributes.


def resident_id_columns(df: pl.DataFrame, col: str, key: bytes, prefix: str = "") -> list:
    """``<prefix>id_hash``, ``<prefix>id_masked``, ``<prefix>birth_year``,
    ``<prefix>gender`` and ``<prefix>id_region`` of a resident ID column."""
    return [
        hmac_series(df[col], key).alias(f"{prefix}id_hash"),
        masked_id(col).alias(f"{prefix}id_masked"),
        birth_year(col).alias(f"{prefix}birth_year"),
        gender(col).alias(f"{prefix}gender"),
        id_region(col).alias(f"{prefix}id_region"),
    ]


def name_columns(df: pl.DataFrame, col: str, key: bytes, prefix: str | None = None) -> list:
    """``<prefix>_hash`` and ``<prefix>_masked`` (surname kept) of a person's name."""
    prefix = prefix or col
    return [
        hmac_series(df[col], key).alias(f"{prefix}_hash"),
        masked_name(col).alias(f"{prefix}_masked"),
    ]


def mobile_columns(df: pl.DataFrame, col: str, key: bytes, prefix: str | None = None) -> list:
    """``<prefix>_hash`` and ``<prefix>_masked`` (3 + 4 digits kept) of a mobile number."""
    prefix = prefix or col
    return [
        hmac_series(df[col], key).alias(f"{prefix}_hash"),
        masked_phone(col).alias(f"{prefix}_masked"),
    ]


def card_columns(df: pl.DataFrame, col: str, key: bytes, prefix: str = "card") -> list:
    """``<prefix>_hash``, ``<prefix>_masked`` (first 6 + last 4) and ``<prefix>_bin``."""
    return [
        hmac_series(df[col], key).alias(f"{prefix}_hash"),
        masked_card(col).alias(f"{prefix}_masked"),
        pl.col(col).str.slice(0, 6).alias(f"{prefix}_bin"),
    ]
