"""Split a parsed batch into the rows that pass its pandera schema and quarantine rows.

``split_valid`` validates lazily, so one pass reports every failure of every row, and
turns pandera's failure cases into one reject per (row, failed rule). A file whose shape
breaks the contract (missing or unexpected columns, wrong dtypes, a failed batch-level
check) is not a row problem: it raises ``SchemaContractError`` and must stop the load.

Uniqueness: pandera flags every row of a duplicated key, the first one included. Here the
first occurrence (in file order) stays valid and only the later ones are rejected, each
naming the row it duplicates, so a repeated line costs one row, not the whole key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.api.checks import Check
from pandera.errors import SchemaError, SchemaErrorReason, SchemaErrors

REDACTED = "<redacted>"

REJECTS_SCHEMA = pl.Schema(
    {"row_index": pl.Int64, "rule": pl.String, "column_name": pl.String, "detail": pl.String}
)

# Reasons that concern the frame's shape, not its rows.
_SHAPE_REASONS = frozenset(
    {
        SchemaErrorReason.COLUMN_NOT_IN_SCHEMA,
        SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME,
        SchemaErrorReason.COLUMN_NOT_ORDERED,
        SchemaErrorReason.DUPLICATE_COLUMN_LABELS,
        SchemaErrorReason.INVALID_COLUMN_NAME,
        SchemaErrorReason.WRONG_DATATYPE,
        SchemaErrorReason.DATATYPE_COERCION,
        SchemaErrorReason.ADD_MISSING_COLUMN_NO_DEFAULT,
        SchemaErrorReason.INVALID_TYPE,
        SchemaErrorReason.WRONG_FIELD_NAME,
        SchemaErrorReason.MISMATCH_INDEX,
    }
)
_UNIQUENESS_CHECKS = frozenset({"field_uniqueness", "multiple_fields_uniqueness"})


class SchemaContractError(ValueError):
    """The batch as a whole breaks the file contract; no row of it may be loaded."""

    def __init__(self, schema_name: str | None, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{schema_name or 'batch'} breaks its contract: " + "; ".join(problems))


@dataclass(frozen=True)
class ValidationResult:
    """Rows that passed every check, and one reject row per (row, failed rule)."""

    valid: pl.DataFrame
    rejects: pl.DataFrame


def split_valid(df: pl.DataFrame, schema: pa.DataFrameSchema) -> ValidationResult:
    """Validate ``df`` lazily and split it into valid rows and rejects.

    ``valid`` keeps the original columns and row order. ``rejects`` has ``row_index``
    (0-based position in ``df``), ``rule`` (the check's name, e.g. ``not_nullable``,
    ``str_matches``, ``id_checksum_gb11643``, ``unique``), ``column_name`` (null for
    dataframe-level checks) and ``detail`` (with the failing value, ``<redacted>`` for
    fields whose metadata marks them personal). Raises ``SchemaContractError`` when the
    frame's shape is wrong and ``RuntimeError`` when a check itself crashes.
    """
    if not isinstance(df, pl.DataFrame):
        # A LazyFrame would be checked for its schema only, never its data.
        raise TypeError(f"split_valid needs a collected polars DataFrame, got {type(df).__name__}")
    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as err:
        _raise_for_batch_failures(df, schema, err)
        rejects = _rejects(df, schema, err.failure_cases)
    else:
        return ValidationResult(valid=df, rejects=REJECTS_SCHEMA.to_frame())

    rejected = pl.repeat(False, df.height, dtype=pl.Boolean, eager=True).scatter(
        rejects["row_index"].unique(), True
    )
    return ValidationResult(valid=df.filter(~rejected), rejects=rejects)


def split_valid_batches(
    frames: Sequence[pl.DataFrame], keys: Sequence[object], schema: pa.DataFrameSchema, by: str
) -> list[ValidationResult]:
    """:func:`split_valid` of every frame, in one pandera pass over their concatenation.

    Validating many small batches at once pays pandera's fixed cost per validation once
    (history loads validate thousands of one-day batches). Frame ``i`` is the batch
    ``keys[i]``: the concatenation carries it in column ``by``, which the schema's rules
    may read (a date check against the row's own business date). Uniqueness is judged
    within a batch (a key repeated on two dates is no duplicate; repeated within one date
    it still is), and every ``row_index``, "duplicate of row" included, is the position in
    the row's own frame: each result equals what ``split_valid`` gives for that frame alone.
    """
    if len(frames) != len(keys):
        raise ValueError(f"{len(frames)} frames for {len(keys)} batch keys")
    if not frames:
        return []
    df = pl.concat(
        [
            frame.with_columns(pl.lit(key).alias(by))
            for frame, key in zip(frames, keys, strict=True)
        ],
        how="vertical",
    )
    if by not in schema.columns:
        schema = schema.add_columns({by: pa.Column(df.schema[by], nullable=False)})
    per_batch = _unique_within(schema, by)
    try:
        per_batch.validate(df, lazy=True)
    except SchemaErrors as err:
        _raise_for_batch_failures(df, per_batch, err)
        rejects = _rejects(df, schema, err.failure_cases, within=by)
    else:
        rejects = REJECTS_SCHEMA.to_frame()

    results, offset = [], 0
    for frame in frames:
        mine = rejects.filter(pl.col("row_index").is_between(offset, offset + frame.height - 1))
        mine = mine.with_columns(pl.col("row_index") - offset)
        rejected = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).scatter(
            mine["row_index"].unique(), True
        )
        results.append(ValidationResult(valid=frame.filter(~rejected), rejects=mine))
        offset += frame.height
    return results


def _unique_subsets(schema: pa.DataFrameSchema) -> list[tuple[str | None, list[str]]]:
    """(column named in quarantine, key columns) of every uniqueness rule of the schema."""
    subsets: list[tuple[str | None, list[str]]] = [
        (name, [name]) for name, column in schema.columns.items() if column.unique
    ]
    if schema.unique:
        combos = (
            [schema.unique] if all(isinstance(c, str) for c in schema.unique) else schema.unique
        )
        subsets.extend((None, list(combo)) for combo in combos)
    return subsets


def _unique_within(schema: pa.DataFrameSchema, by: str) -> pa.DataFrameSchema:
    """The schema with every uniqueness rule judged per value of ``by``."""
    subsets = _unique_subsets(schema)
    if not subsets:
        return schema
    unique_columns = {name: {"unique": False} for name, c in schema.columns.items() if c.unique}
    out = schema.update_columns(unique_columns) if unique_columns else schema.update_columns({})
    out.unique = [[by, *subset] for _, subset in subsets]
    return out


def _raise_for_batch_failures(
    df: pl.DataFrame, schema: pa.DataFrameSchema, err: SchemaErrors
) -> None:
    """Raise for failures that are not about particular rows."""
    errors: list[SchemaError] = err.schema_errors
    problems = [_shape_problem(df, schema, e) for e in errors if e.reason_code in _SHAPE_REASONS]
    if problems:
        raise SchemaContractError(schema.name, list(dict.fromkeys(problems)))

    crashed = [e for e in errors if e.reason_code == SchemaErrorReason.CHECK_ERROR]
    if crashed:
        raise RuntimeError(
            "validation checks failed to run: "
            + "; ".join(
                f"{_check_name(e.check)} on {e.schema.name!r}: {e.failure_cases}" for e in crashed
            )
        )

    # A check that returned one boolean for the whole frame, e.g. a row count.
    batch_level = [e for e in errors if not isinstance(e.failure_cases, pl.DataFrame)]
    if batch_level:
        raise SchemaContractError(
            schema.name,
            [
                f"batch-level check {_check_name(e.check)} failed on {e.schema.name!r}"
                for e in batch_level
            ],
        )


def _shape_problem(df: pl.DataFrame, schema: pa.DataFrameSchema, error: SchemaError) -> str:
    reason = error.reason_code
    if reason == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
        return f"missing column {error.failure_cases!r}"
    if reason == SchemaErrorReason.COLUMN_NOT_IN_SCHEMA:
        # pandera stops at the first unexpected column; name them all.
        unexpected = [c for c in df.columns if c not in schema.columns]
        return f"unexpected columns {unexpected}"
    if reason == SchemaErrorReason.WRONG_DATATYPE:
        return (
            f"column {error.schema.name!r} has dtype {error.failure_cases}, "
            f"expected {error.schema.dtype}"
        )
    return str(error.args[0] if error.args else reason.value)


def _check_name(check: Check | str | None) -> str:
    if isinstance(check, Check):
        return check.name or str(check)
    return str(check)


def _rejects(
    df: pl.DataFrame,
    schema: pa.DataFrameSchema,
    failure_cases: pl.DataFrame,
    within: str | None = None,
) -> pl.DataFrame:
    """One reject row per failure case, plus the later rows of each duplicated key.

    ``within``: a column whose values delimit batches (see :func:`split_valid_batches`).
    """
    keys = ["schema_context", "column", "check", "check_number"]
    row_failures = failure_cases.filter(
        pl.col("index").is_not_null() & ~pl.col("check").is_in(list(_UNIQUENESS_CHECKS))
    )
    parts = [
        _reject_rows(group, schema, *key)
        for key, group in row_failures.partition_by(keys, as_dict=True, maintain_order=True).items()
    ]

    duplicated = failure_cases.filter(pl.col("check").is_in(list(_UNIQUENESS_CHECKS)))
    if not duplicated.is_empty():
        parts.extend(_duplicate_rejects(df, schema, within))

    rejects = pl.concat(parts, how="vertical") if parts else REJECTS_SCHEMA.to_frame()
    return rejects.sort("row_index", maintain_order=True)


def _reject_rows(
    group: pl.DataFrame,
    schema: pa.DataFrameSchema,
    context: str,
    column: str | None,
    check: str,
    check_number: int | None,
) -> pl.DataFrame:
    """Rejects for the failure cases of one check on one column (or on the frame)."""
    if context == "DataFrameSchema":
        column_name = None
        rule_check: Check | None = schema.checks[check_number] if check_number is not None else None
    else:
        column_name = column
        component = schema.columns[column]
        rule_check = component.checks[check_number] if check_number is not None else None

    if rule_check is None:  # a built-in property of the column, e.g. not_nullable
        rule = check
        message = "required field is empty" if check == "not_nullable" else f"failed {check}"
    else:
        rule = rule_check.name or check
        message = (rule_check.description or f"must satisfy {rule_check.error or rule}").rstrip(".")

    if column_name is None:
        # Dataframe-level failure cases are whole rows as JSON, personal fields included.
        detail = pl.lit(message)
    elif rule == "not_nullable":
        detail = pl.lit(message)
    elif _is_personal(schema, column_name):
        detail = pl.lit(f"{message}: got {REDACTED}")
    else:
        detail = pl.format("{}: got '{}'", pl.lit(message), pl.col("failure_case"))

    return group.select(
        row_index=pl.col("index").cast(pl.Int64),
        rule=pl.lit(rule, dtype=pl.String),
        column_name=pl.lit(column_name, dtype=pl.String),
        detail=detail.cast(pl.String),
    )


def _duplicate_rejects(
    df: pl.DataFrame, schema: pa.DataFrameSchema, within: str | None = None
) -> list[pl.DataFrame]:
    """Rows repeating an earlier row's key, for each unique column and unique column set.

    With ``within``, keys repeat only inside one batch and rows are numbered from each
    batch's first row.
    """
    batch = [within] if within else []
    parts = []
    for column_name, subset in _unique_subsets(schema):
        if column_name is not None and _is_personal(schema, column_name):
            shown = pl.lit(REDACTED)
        elif column_name is not None:
            shown = pl.format("'{}'", pl.col(column_name))
        else:
            shown = pl.lit(f"({', '.join(subset)})")
        position = pl.col("row_index") - (
            pl.col("row_index").min().over(batch) if batch else pl.lit(0, dtype=pl.UInt32)
        )
        parts.append(
            df.select(*batch, *subset, shown.alias("_shown"))
            .with_row_index("row_index")
            .with_columns(position.alias("_position"))
            .filter(pl.all_horizontal(pl.col(subset).is_not_null()))  # nulls: not_nullable's job
            .with_columns(first=pl.col("_position").min().over([*batch, *subset]))
            .filter(pl.col("_position") != pl.col("first"))
            .select(
                row_index=pl.col("row_index").cast(pl.Int64),
                rule=pl.lit("unique"),
                column_name=pl.lit(column_name, dtype=pl.String),
                detail=pl.format("duplicate of row {}: {}", pl.col("first"), pl.col("_shown")),
            )
        )
    return parts


def _is_personal(schema: pa.DataFrameSchema, column: str) -> bool:
    metadata = schema.columns[column].metadata or {}
    return bool(metadata.get("personal"))
