"""The same data checks as a Great Expectations 1.x suite, run through a checkpoint.

`mlcicd validate-data --engine ge` uses this instead of the pandera schema: an ephemeral
(in-memory) data context, a pandas data source with one dataframe asset and a whole-dataframe
batch definition, an ExpectationSuite built from the same profile as `build_schema` (types,
nulls, ranges, unique id, binary target, no unknown columns, class balance as the target's
mean), a ValidationDefinition and a Checkpoint. Shift (PSI) has no GE expectation; it is the
same computation as in `validation.validate`. GE imports slowly (seconds): this module is
imported only on the GE path, and imports great_expectations itself only inside functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from mlcicd.validation import (
    ID_COLUMN,
    MAX_ROWS_SHOWN,
    TARGET_COLUMN,
    Failure,
    ValidationResult,
    shift_check,
)

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.checkpoint.checkpoint import CheckpointResult

SUITE_NAME = "mlcicd-data"


def build_suite(profile: dict[str, Any], min_minority_share: float) -> gx.ExpectationSuite:
    """The profile as expectations: the columns (exactly), id int/not null/unique, target int
    in {0, 1} with a minority share >= `min_minority_share` (for a 0/1 target the mean is the
    share of 1s), each feature float, not null, within [min - span, max + span] (low >= 0)."""
    # BEGIN SOLUTION
    import great_expectations as gx

    expect: Any = gx.expectations  # the public namespace (it re-exports without `as`)
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    columns = [ID_COLUMN, TARGET_COLUMN, *profile["columns"]]
    suite.add_expectation(expect.ExpectTableColumnsToMatchSet(column_set=columns,
                                                              exact_match=True))
    suite.add_expectation(expect.ExpectColumnValuesToBeOfType(column=ID_COLUMN, type_="int64"))
    suite.add_expectation(expect.ExpectColumnValuesToNotBeNull(column=ID_COLUMN))
    suite.add_expectation(expect.ExpectColumnValuesToBeUnique(column=ID_COLUMN))
    suite.add_expectation(expect.ExpectColumnValuesToBeOfType(column=TARGET_COLUMN,
                                                              type_="int64"))
    suite.add_expectation(expect.ExpectColumnValuesToNotBeNull(column=TARGET_COLUMN))
    suite.add_expectation(expect.ExpectColumnValuesToBeInSet(column=TARGET_COLUMN,
                                                             value_set=[0, 1]))
    suite.add_expectation(expect.ExpectColumnMeanToBeBetween(
        column=TARGET_COLUMN, min_value=min_minority_share, max_value=1 - min_minority_share))
    for name, spec in profile["columns"].items():
        span = spec["max"] - spec["min"]
        suite.add_expectation(expect.ExpectColumnValuesToBeOfType(column=name, type_="float64"))
        suite.add_expectation(expect.ExpectColumnValuesToNotBeNull(column=name))
        suite.add_expectation(expect.ExpectColumnValuesToBeBetween(
            column=name, min_value=max(0.0, spec["min"] - span), max_value=spec["max"] + span))
    return suite
    # END SOLUTION


def run_checkpoint(frame: pd.DataFrame, profile: dict[str, Any],
                   min_minority_share: float) -> CheckpointResult:
    """Ephemeral context -> pandas data source -> dataframe asset -> whole-dataframe batch
    definition; the suite, a ValidationDefinition and a Checkpoint; run it on `frame`. The
    result format is COMPLETE with the id column as row identifier (when there is one)."""
    # BEGIN SOLUTION
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False)))
    batch = (context.data_sources.add_pandas("mlcicd").add_dataframe_asset("frame")
             .add_batch_definition_whole_dataframe("whole"))
    suite = context.suites.add(build_suite(profile, min_minority_share))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="data", data=batch, suite=suite))
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if ID_COLUMN in frame:
        result_format["unexpected_index_column_names"] = [ID_COLUMN]
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name="validate-data", validation_definitions=[definition],
        result_format=result_format))
    return checkpoint.run(batch_parameters={"dataframe": frame})
    # END SOLUTION


def checkpoint_failures(result: CheckpointResult) -> list[Failure]:
    """One Failure per failed expectation: its column (`<frame>` for table-level ones), the
    expectation type as the check, the unexpected count and the first ids of failing rows."""
    # BEGIN SOLUTION
    failures = []
    for run in result.run_results.values():
        for item in run.results:
            if item.success:
                continue
            config = item.expectation_config
            if config is None:  # a result always carries its expectation; be safe anyway
                continue
            detail: dict[str, Any] = dict(item.result or {})
            check = config.type
            if item.exception_info and item.exception_info.get("raised_exception"):
                check += "(error)"
            mismatched = (detail.get("details") or {}).get("mismatched")
            if mismatched:
                check += "(" + "; ".join(f"{kind}: {', '.join(map(str, names))}"
                                         for kind, names in mismatched.items() if names) + ")"
            rows = [int(row[ID_COLUMN]) for row in detail.get("unexpected_index_list") or []
                    if isinstance(row, dict) and pd.notna(row.get(ID_COLUMN))]
            failures.append(Failure(str(config.kwargs.get("column") or "<frame>"), check,
                                    int(detail.get("unexpected_count") or 0),
                                    rows[:MAX_ROWS_SHOWN]))
    return sorted(failures, key=lambda f: (f.column, f.check))
    # END SOLUTION


def validate_ge(frame: pd.DataFrame, profile: dict[str, Any], min_minority_share: float,
                max_psi: float) -> ValidationResult:
    """`validation.validate` with the schema and class balance run as the GE checkpoint."""
    # BEGIN SOLUTION
    failures = checkpoint_failures(run_checkpoint(frame, profile, min_minority_share))
    share = 0.0
    if TARGET_COLUMN in frame and len(frame):
        counts = frame[TARGET_COLUMN].value_counts(normalize=True)
        share = float(counts.min()) if len(counts) > 1 else 0.0
    shifts, shift_failures = shift_check(frame, profile, max_psi)
    failures.extend(shift_failures)
    return ValidationResult(len(frame), failures, shifts, share)
    # END SOLUTION
