"""Small-number suppression: the edges of the rule, secondary suppression, derived values.

Expected tables are worked out by hand from the rule in ``analytics/publish/suppression.py`` with the
``config.toml`` defaults (threshold 8, rounding base 5, symbol ``[c]``) unless a test overrides them.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics.config import settings as config
from analytics.publish.suppression import round_count, suppress, suppression_rule_text


def by_locality(people: dict[str, dict[str, object]]) -> pl.DataFrame:
    """{locality: {ward: people}} -> frame with columns locality, ward, people, in the order given."""
    return pl.DataFrame(
        {
            "locality": [loc for loc, wards in people.items() for _ in wards],
            "ward": [ward for wards in people.values() for ward in wards],
            "people": [n for wards in people.values() for n in wards.values()],
        }
    )


def test_config_defaults_are_what_these_tests_assume():
    cfg = config()["suppression"]
    assert (cfg["threshold"], cfg["rounding_base"], cfg["symbol"]) == (8, 5, "[c]")


def test_primary_suppression_and_rounding_at_the_edges():
    # 0, 1, threshold-1, threshold, threshold+1, then rounding either side of a multiple of 5.
    frame = pl.DataFrame({"ward": list("ABCDEFGH"), "people": [0, 1, 7, 8, 9, 12, 13, 1234]})

    result = suppress(frame, count_cols=["people"])

    expected_values = pl.DataFrame(
        {
            "ward": list("ABCDEFGH"),
            "people": [0, None, None, 10, 10, 10, 15, 1235],
            "people_suppressed": [False, True, True, False, False, False, False, False],
        },
        schema_overrides={"people": pl.Int64},
    )
    expected_display = pl.DataFrame(
        {"ward": list("ABCDEFGH"), "people": ["0", "[c]", "[c]", "10", "10", "10", "15", "1,235"]}
    )
    assert_frame_equal(result.values, expected_values)
    assert_frame_equal(result.display, expected_display)


@pytest.mark.parametrize(
    ("raw", "shown", "flag"),
    [
        (0, "0", False),  # zero stays zero
        (9, "[c]", True),  # threshold - 1
        (10, "10", False),  # threshold
        (11, "10", False),  # threshold + 1
        (15, "20", False),  # halves round up
    ],
)
def test_edges_follow_an_overridden_rule(raw, shown, flag):
    result = suppress(pl.DataFrame({"n": [raw]}), count_cols=["n"], threshold=10, base=10, symbol="[low]")
    shown_symbol = "[low]" if flag else shown
    assert result.display["n"].to_list() == [shown_symbol]
    assert result.values["n_suppressed"].to_list() == [flag]


def test_a_non_zero_count_never_rounds_to_zero():
    assert round_count(1, 5) == 5
    assert round_count(2, 10) == 10
    assert round_count(0, 5) == 0
    # With no threshold at all, 1 and 2 would round to 0 under plain rounding: they must not.
    result = suppress(pl.DataFrame({"n": [0, 1, 2, 3]}), count_cols=["n"], threshold=1, base=5)
    assert result.values["n"].to_list() == [0, 5, 5, 5]


def test_secondary_suppression_hides_the_next_smallest_cell_in_a_group_with_a_published_total():
    frame = by_locality({"North": {"N1": 3, "N2": 0, "N3": 12, "N4": 40}, "South": {"S1": 2, "S2": 5, "S3": 30}})

    result = suppress(frame, count_cols=["people"], group_by=["locality"])

    # North: 3 is hidden alone, so the smallest shown non-zero cell (12, not the 0) goes too.
    # South: 2 and 5 are both hidden already, so nothing more is needed.
    expected = by_locality(
        {"North": {"N1": "[c]", "N2": "0", "N3": "[c]", "N4": "40"}, "South": {"S1": "[c]", "S2": "[c]", "S3": "30"}}
    )
    assert_frame_equal(result.display, expected)
    assert result.values["people_suppressed"].to_list() == [True, False, True, False, True, True, False]


def test_without_a_published_total_there_is_no_secondary_suppression():
    frame = pl.DataFrame({"ward": ["A", "B", "C"], "people": [3, 12, 40]})
    result = suppress(frame, count_cols=["people"])
    assert result.display["people"].to_list() == ["[c]", "10", "40"]


def test_total_row_is_added_per_group_and_protected():
    frame = by_locality({"North": {"N1": 3, "N2": 20, "N3": 41}, "South": {"S1": 12, "S2": 13}})

    result = suppress(frame, count_cols=["people"], group_by=["locality"], total_row=True)

    # North total 64 -> 65; 3 hidden, so 20 (next smallest) hidden too. South total 25.
    expected_display = by_locality(
        {
            "North": {"N1": "[c]", "N2": "[c]", "N3": "40", "Total": "65"},
            "South": {"S1": "10", "S2": "15", "Total": "25"},
        }
    )
    assert_frame_equal(result.display, expected_display)
    assert result.values["is_total"].to_list() == [False, False, False, True, False, False, True]


def test_a_suppressed_total_publishes_nothing_so_needs_no_secondary():
    frame = pl.DataFrame({"ward": ["A", "B", "C"], "people": [4, 0, 0]})
    result = suppress(frame, count_cols=["people"], total_row=True)
    assert result.display["people"].to_list() == ["[c]", "0", "0", "[c]"]


def test_secondary_suppression_iterates_across_rows_and_columns_until_stable():
    # A cross-tab with row totals and a total row: every line adds up to a published total.
    frame = pl.DataFrame({"ward": ["W1", "W2"], "aged_18_64": [3, 30], "aged_65_plus": [20, 40], "all_ages": [23, 70]})

    result = suppress(
        frame, count_cols=["aged_18_64", "aged_65_plus", "all_ages"], total_row=True, row_total="all_ages"
    )

    # W1 aged 18-64 (3) is hidden. Column 18-64 then hides W2 (30); row W1 hides 65+ (20); that
    # leaves column 65+ with one hidden cell, so W2 65+ (40) goes on the next pass.
    expected = pl.DataFrame(
        {
            "ward": ["W1", "W2", "Total"],
            "aged_18_64": ["[c]", "[c]", "35"],
            "aged_65_plus": ["[c]", "[c]", "60"],
            "all_ages": ["25", "70", "95"],
        }
    )
    assert_frame_equal(result.display, expected)


def test_derived_means_are_hidden_below_the_threshold_and_with_their_count():
    frame = pl.DataFrame(
        {
            "ward": ["A", "B", "C", "D", "E"],
            "people": [0, 7, 8, 9, 50],
            "mean_hours": [None, 10.0, 12.5, 20.0, 14.25],
        }
    )

    result = suppress(frame, count_cols=["people"], derived={"mean_hours": "people"})

    expected_values = pl.DataFrame(
        {
            "ward": ["A", "B", "C", "D", "E"],
            "people": [0, None, 10, 10, 50],
            "mean_hours": [None, None, 12.5, 20.0, 14.25],
            "people_suppressed": [False, True, False, False, False],
            "mean_hours_suppressed": [False, True, False, False, False],
        },
        schema_overrides={"people": pl.Int64},
    )
    expected_display = pl.DataFrame(
        {
            "ward": ["A", "B", "C", "D", "E"],
            "people": ["0", "[c]", "10", "10", "50"],
            "mean_hours": ["[x]", "[c]", "12.5", "20.0", "14.2"],
        }
    )
    assert_frame_equal(result.values, expected_values)
    assert_frame_equal(result.display, expected_display)


def test_derived_values_follow_secondary_suppression_of_their_count():
    frame = pl.DataFrame({"ward": ["A", "B", "C"], "people": [3, 9, 50], "hours": [30.0, 90.0, 500.0]})
    result = suppress(frame, count_cols=["people"], derived={"hours": "people"}, group_by=[])
    assert result.display["hours"].to_list() == ["[c]", "[c]", "500.0"]


def test_derived_value_can_be_based_on_a_count_that_is_not_shown():
    frame = pl.DataFrame({"ward": ["A", "B"], "people_waiting": [5, 12], "median_wait_days": [30, 12]})
    result = suppress(frame, count_cols=[], derived={"median_wait_days": "people_waiting"})
    assert result.display["median_wait_days"].to_list() == ["[c]", "12"]
    assert result.display["people_waiting"].to_list() == [5, 12]  # not in count_cols: untouched


def test_provider_counts_are_not_suppressed_or_rounded():
    frame = pl.DataFrame({"ward": ["A", "B", "C"], "providers": [1, 3, 12], "people": [2, 30, 0]})
    result = suppress(frame, count_cols=["people"])
    assert_frame_equal(result.values.select("ward", "providers"), frame.select("ward", "providers"))
    assert_frame_equal(result.display.select("ward", "providers"), frame.select("ward", "providers"))


def test_missing_counts_read_x_and_are_not_flagged_as_suppressed():
    result = suppress(pl.DataFrame({"people": [None, 3]}, schema={"people": pl.Int64}), count_cols=["people"])
    assert result.display["people"].to_list() == ["[x]", "[c]"]
    assert result.values["people_suppressed"].to_list() == [False, True]


def test_export_frame_has_plain_numbers_and_symbols():
    frame = pl.DataFrame({"ward": ["A", "B", "C"], "people": [3, 1234, None]}, schema_overrides={"people": pl.Int64})
    result = suppress(frame, count_cols=["people"])
    expected = pl.DataFrame({"ward": ["A", "B", "C"], "people": ["[c]", "1235", "[x]"]})
    assert_frame_equal(result.export_frame(), expected)


def test_an_empty_frame_gives_empty_frames():
    frame = pl.DataFrame(schema={"ward": pl.String, "people": pl.Int64, "mean_hours": pl.Float64})
    result = suppress(frame, count_cols=["people"], derived={"mean_hours": "people"}, group_by=[])
    assert result.values.height == 0 and result.display.height == 0
    assert result.values.columns == ["ward", "people", "mean_hours", "people_suppressed", "mean_hours_suppressed"]


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="negative"):
        suppress(pl.DataFrame({"n": [-1]}), count_cols=["n"])
    with pytest.raises(ValueError, match="not in the frame"):
        suppress(pl.DataFrame({"n": [1]}), count_cols=["m"])
    with pytest.raises(TypeError, match="numeric"):
        suppress(pl.DataFrame({"n": ["1"]}), count_cols=["n"])
    with pytest.raises(ValueError, match="row_total"):
        suppress(pl.DataFrame({"n": [1], "t": [1]}), count_cols=["n"], row_total="t")


def test_rule_text_states_the_configured_rule():
    text = suppression_rule_text()
    assert text.startswith(
        "Counts of people from 1 to 7 are shown as [c] and other counts are rounded to the nearest 5"
    )
    assert "hours, averages and rates are hidden with the count they rest on" in text
    assert "medians and percentiles of fewer than 8 people are not shown" in text
    assert text.endswith("(based on the NHS Digital rule).")
    assert text.count(".") == 1  # one sentence
    assert suppress(pl.DataFrame({"n": [1]}), count_cols=["n"]).rule_text == text
    assert "1 to 9" in suppression_rule_text(threshold=10, base=10)


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12),
    groups=st.integers(min_value=1, max_value=3),
    total_row=st.booleans(),
)
def test_a_suppressed_value_is_never_zero_and_a_shown_zero_is_a_true_zero(counts, groups, total_row):
    frame = pl.DataFrame({"group": [i % groups for i in range(len(counts))], "people": counts})
    result = suppress(frame, count_cols=["people"], group_by=["group"], total_row=total_row)
    values = result.values
    for value, text, hidden in zip(
        values["people"], result.display["people"], values["people_suppressed"], strict=True
    ):
        if hidden:
            assert value is None
            assert text == "[c]"
        else:
            assert value is not None
            assert (value == 0) == (text == "0")
    rows = values.filter(~pl.col("is_total")) if total_row else values
    for raw, value in zip(counts, rows["people"], strict=True):
        if value == 0:
            assert raw == 0
        if 0 < raw < 8:
            assert value is None


def test_medians_follow_the_group_size_not_secondary_suppression():
    """A median of a group of 12 stays shown when its count is hidden only to protect another cell."""
    frame = pl.DataFrame(
        {
            "area_type": ["rural", "urban"],
            "month": ["2026-10", "2026-10"],
            "people": [3, 12],
            "median_days": [40.0, 9.0],
        }
    )
    out = suppress(frame, count_cols=["people"], medians={"median_days": "people"}, group_by=["month"])
    assert out.values["people_suppressed"].to_list() == [True, True]  # 12 hidden to protect the 3
    assert out.values["median_days"].to_list() == [None, 9.0]  # rural: 3 people; urban: 12 people
    assert "medians and percentiles of fewer than 8 people" in out.rule_text


def test_hours_and_averages_follow_the_count_including_secondary_suppression():
    frame = pl.DataFrame({"month": ["a", "a"], "people": [3, 12], "hours": [10.0, 60.0], "avg": [3.3, 5.0]})
    out = suppress(frame, count_cols=["people"], derived={"hours": "people", "avg": "people"}, group_by=["month"])
    assert out.values["hours"].to_list() == [None, None] and out.values["avg"].to_list() == [None, None]
