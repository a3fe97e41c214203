"""Publication mode: a chart as it may leave the council, with small numbers protected.

``publish(spec)`` takes a completed ``ChartSpec`` (built from raw counts) and returns one whose
table, figure, headline and text alternative show only what may be published:

* **Which columns count people.** A column named for an indicator whose catalogue entry has
  ``counts_people = true`` (when the caller passes ``indicator_ids``), or named by the house
  convention: ``people*``, ``*customers*``, ``requests*``, ``packages*``. Names holding ``_per_``,
  ``pct``, ``share``, ``rate`` or ``ratio`` are never counts. Counts of providers, areas and other
  organisations are public facts and left alone.
* **Derived columns**: hours, medians, means, percentiles, days and ``*_per_*`` figures worked out
  from those people. They are hidden wherever the count they come from is (the count sharing a word
  of the name, e.g. ``hours_waiting`` with ``people_waiting``; with no clear match, wherever any
  count in the row is hidden).
* **The rule** is ``analytics.publish.suppression.suppress``: 1 to 7 shown as ``[c]``, others rounded to
  the nearest 5, secondary suppression across the rows of each group (the rows that share the other
  label columns and the month: together they add up to the area's published total).
* **Council level needs none** (as national figures in the NHS Digital HES/ECDS rule): a chart of the
  whole council with no split by area, provider or class is returned unchanged. ``council_level``
  forces the decision either way.

The figure is patched, not rebuilt (``analytics.publish.figure_patch``), so any builder's chart
keeps its look: every plotted point is matched back to its table row (by category, series name and
value); counts are replaced by their rounded value and suppressed points are removed (a bar is
missing and labelled ``[c]``, a line has a gap, a map area turns grey, a circle goes), never drawn
as 0. Labels and hover texts follow. A headline quoting a figure that is no longer shown falls back
to the subtitle's measure; the text alternative is rewritten from the published values. A figure
whose points cannot all be matched (a chart type this module does not know) is replaced by a notice
pointing at the table, so nothing unprotected is drawn. The footnote states the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime

import polars as pl

from analytics.formatting import fmt_int, fmt_month, fmt_number
from analytics.indicators import catalogue
from analytics.publish.charts import ChartSpec, copy_figure, describe_extremes, describe_trend
from analytics.publish.figure_patch import (
    NUMBER,
    Changes,
    Point,
    find_changes,
    mentions,
    patch_figure,
    withheld_figure,
)
from analytics.publish.suppression import (
    SUPPRESSED_SUFFIX,
    Line,
    Suppressed,
    is_primary,
    round_count,
    rule,
    secondary_suppression,
    suppress,
    suppression_rule_text,
)

# House naming convention for person counts.
_COUNT_NAME = re.compile(r"^(people|requests|packages)|customers")
# Rates, shares and ratios are complex statistics, not counts (NHS Digital HES/ECDS rule, September 2018).
_NOT_COUNT = re.compile(r"_per_|^per_|pct|percent|share|rate|ratio|_pp$|index")
# Figures worked out from a number of people: hidden where that number is.
_DERIVED_NAME = re.compile(r"hours|median|mean|average|avg|^p\d\d|_p\d\d|percentile|days|_per_|^per_|size")
_RATIO_NAME = re.compile(r"pct|percent|share|rate|ratio|_pp$")
# Medians and percentiles: shown when their group is large enough (``min_group_size``), whatever
# secondary suppression of the group's count did (they cannot be worked back from totals).
_MEDIAN_NAME = re.compile(r"median|^p\d\d|_p\d\d|percentile")
# Not about people (or public facts): never hidden as derived figures.
_PUBLIC_NAME = re.compile(r"provider|microenterprise|area|location|population|resident|fee|price|gbp|cost|^month|year")
# Label columns that do not split the council into smaller areas or providers.
NON_GEOGRAPHIC_LABELS = frozenset(
    {
        "statistic",
        "measure",
        "series",
        "metric",
        "indicator",
        "service_type",
        "service",
        "client_group",
        "funding",
        "provider_type",
        "age_band",
        "age_group",
        "sex",
        "gender",
        "scenario",
        "period",
        "year",
        "quarter",
        "financial_year",
    }
)
COUNCIL_WORDS = ("whole council",)


# ---------------------------------------------------------------------------------------------
# Which columns
# ---------------------------------------------------------------------------------------------


def _numeric(frame: pl.DataFrame, name: str) -> bool:
    return frame.schema[name].is_numeric()


def _temporal(frame: pl.DataFrame, name: str) -> bool:
    return frame.schema[name].is_temporal()


def label_columns(frame: pl.DataFrame) -> list[str]:
    """Return the columns naming a category (text, categorical, boolean): not numbers, not dates."""
    return [c for c in frame.columns if not _numeric(frame, c) and not _temporal(frame, c)]


def _people_indicators(indicator_ids: Iterable[str]) -> tuple[set[str], bool]:
    """Return (ids that count people, whether every known id given counts people)."""
    known = catalogue.load_catalogue()
    items = [known[i] for i in indicator_ids if i in known]
    people = {i.id for i in items if i.counts_people}
    return people, bool(items) and all(i.counts_people for i in items)


def person_count_columns(frame: pl.DataFrame, indicator_ids: Sequence[str] = ()) -> list[str]:
    """Return the numeric columns of ``frame`` that hold counts of people (see the module docstring)."""
    people, all_people = _people_indicators(indicator_ids)
    out = []
    for c in frame.columns:
        if not _numeric(frame, c) or c.endswith(SUPPRESSED_SUFFIX):
            continue
        name = c.lower()
        if c in people or (_COUNT_NAME.search(name) and not _NOT_COUNT.search(name)):
            out.append(c)
    if not out and all_people:
        # The chart names only people-counting indicators but its value column has a generic name.
        out = [
            c
            for c in frame.columns
            if _numeric(frame, c) and not _NOT_COUNT.search(c.lower()) and not _DERIVED_NAME.search(c.lower())
        ]
    return out


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if t}


def _related(a: str, b: str) -> bool:
    """Whether two names share a word (or one word starts the other: ``wait`` / ``waiting``)."""
    generic = {"people", "per", "hours", "days", "median", "mean", "p90", "week", "a", "of", "the", "total"}
    ta, tb = _tokens(a) - generic, _tokens(b) - generic
    return any(x == y or (len(x) >= 4 and y.startswith(x)) or (len(y) >= 4 and x.startswith(y)) for x in ta for y in tb)


def derived_columns(frame: pl.DataFrame, counts: Sequence[str]) -> dict[str, str | None]:
    """Return derived column -> the count it comes from (``None``: any count of the row).

    Only when ``frame`` has a count to base them on. Derived: hours, days, medians, means,
    percentiles, ``*_per_*`` figures, and percentages, shares and ratios over those people
    (local choice: no percentage over a hidden count). Never derived: counts of providers,
    microenterprises, areas or locations, populations, fees and prices (public or not about people).
    """
    if not counts:
        return {}
    out: dict[str, str | None] = {}
    for c in frame.columns:
        name = c.lower()
        if c in counts or not _numeric(frame, c) or c.endswith(SUPPRESSED_SUFFIX):
            continue
        if _PUBLIC_NAME.search(name) and not _COUNT_NAME.search(name):
            continue
        if not (_DERIVED_NAME.search(name) or _RATIO_NAME.search(name)):
            continue
        matches = [k for k in counts if _related(c, k)]
        out[c] = counts[0] if len(counts) == 1 else (matches[0] if len(matches) == 1 else None)
    return out


def is_council_level(spec: ChartSpec) -> bool:
    """Whether ``spec`` shows the whole council only (no split by area, provider or class).

    The subtitle must say "whole council" (``Filters.area_label``) and every label column of the
    table must be one that does not name a smaller area or a provider (``NON_GEOGRAPHIC_LABELS``).
    When unsure, the answer is no: the chart is then protected.
    """
    frame = spec.data.values if isinstance(spec.data, Suppressed) else spec.data
    if frame is None or not any(w in spec.subtitle.lower() for w in COUNCIL_WORDS):
        return False
    return all(c.lower() in NON_GEOGRAPHIC_LABELS for c in label_columns(frame))


def group_columns(frame: pl.DataFrame) -> list[str]:
    """Return the columns whose rows add up to one published total: every label column but the first, and dates."""
    labels = label_columns(frame)
    dates = [c for c in frame.columns if _temporal(frame, c)]
    return [*labels[1:], *dates]


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def publish_frame(
    frame: pl.DataFrame, *, indicator_ids: Sequence[str] = (), council_level: bool = False
) -> pl.DataFrame | Suppressed:
    """Return ``frame`` ready to publish: ``suppress``-ed when it holds counts of people below council level.

    For tables shown beside charts or on their own (the page decides ``council_level``).
    """
    if council_level:
        return frame
    counts = person_count_columns(frame, indicator_ids)
    if not counts:
        return frame
    derived = derived_columns(frame, counts)
    medians = {d: base for d, base in derived.items() if base is not None and _MEDIAN_NAME.search(d.lower())}
    # Secondary suppression only where a group has more than one row: a lone row's total is itself.
    result = suppress(
        frame,
        count_cols=counts,
        derived={d: (base or counts[0]) for d, base in derived.items() if d not in medians},
        medians=medians,
        group_by=group_columns(frame),
    )
    ambiguous = [d for d, base in derived.items() if base is None]
    return _hide_with_any_count(result, ambiguous) if ambiguous else result


def _hide_with_any_count(result: Suppressed, columns: Sequence[str]) -> Suppressed:
    """Hide ``columns`` wherever any count of the row is hidden (their base count is unclear)."""
    any_hidden = pl.any_horizontal([pl.col(f"{c}{SUPPRESSED_SUFFIX}") for c in result.count_cols])
    values = result.values.with_columns(
        *(pl.when(any_hidden).then(None).otherwise(pl.col(d)).alias(d) for d in columns),
        *((pl.col(f"{d}{SUPPRESSED_SUFFIX}") | any_hidden).alias(f"{d}{SUPPRESSED_SUFFIX}") for d in columns),
    )
    flags = values.select(any_hidden.alias("h"))["h"]
    display = result.display.with_columns(
        pl.when(flags).then(pl.lit(result.symbol)).otherwise(pl.col(d)).alias(d) for d in columns
    )
    return replace(result, values=values, display=display)


# The headline frame (one row per month of one area: ``views.overview.monthly_headline``): which
# columns count people, which figures rest on them, and which are medians of them.
HEADLINE_COUNTS = ("people_in_service", "people_waiting")
HEADLINE_DERIVED = {"planned_hours_per_week": "people_in_service", "hours_waiting": "people_waiting"}
HEADLINE_MEDIANS = {"median_wait_days": "people_waiting", "p90_wait_days": "people_waiting"}


def publish_headline(frame: pl.DataFrame) -> Suppressed:
    """Return an area's monthly headline figures as they may be published (a locality's tiles and sentences).

    Input: one row per month with any of ``HEADLINE_COUNTS`` (people), ``HEADLINE_DERIVED`` (hours
    those people wait or receive) and ``HEADLINE_MEDIANS`` (their waits), plus other columns left
    as they are. Output: ``suppress`` of it: counts of 1 to 7 people hidden and others rounded to 5,
    hours hidden with their count, medians hidden for groups under ``min_group_size``. So a tile
    never shows ``[c]`` people waiting beside the hours and waits of the same people, and a
    sentence built from ``values`` quotes only rounded counts.
    """
    counts = [c for c in HEADLINE_COUNTS if c in frame.columns]
    derived = {d: b for d, b in HEADLINE_DERIVED.items() if d in frame.columns and b in counts}
    medians = {d: b for d, b in HEADLINE_MEDIANS.items() if d in frame.columns and b in counts}
    return suppress(frame, count_cols=counts, derived=derived, medians=medians)


def publish_split(
    frame: pl.DataFrame, kinds: dict[str, str], *, key: str, columns: Sequence[str], total: str | None = None
) -> pl.DataFrame:
    """Return a measures-by-columns table (one row per measure, e.g. the rural split) as it may be published.

    ``kinds`` maps each row's ``key`` value to ``"count"`` (people: rounded, 1 to 7 hidden, and a
    further cell hidden in a row whose ``total`` would reveal one), ``"derived:<count key>"``
    (hours or averages of those people: hidden with that count's cell) or ``"median:<count key>"``
    (hidden where that count's raw value is under ``min_group_size``); any other measure (providers,
    population, rates of them) is left alone. ``columns`` are the numeric columns to treat
    (``total`` included when given). Returns the same columns with the treated cells as numbers or
    null and a ``<col>_suppressed`` flag per treated column.
    """
    r = rule()
    cols = [*columns, *([total] if total else [])]
    rows = {row[key]: row for row in frame.iter_rows(named=True)}
    hidden = {k: dict.fromkeys(cols, False) for k in rows}
    shown = {k: {c: rows[k][c] for c in cols} for k in rows}
    for k, kind in kinds.items():
        if k not in rows or kind != "count":
            continue
        raw = {c: [rows[k][c]] for c in cols}
        flags = {c: [is_primary(rows[k][c], r.threshold)] for c in cols}
        lines = [Line(tuple((c, 0) for c in columns), (total, 0) if total else None)] if total else []
        flags = secondary_suppression(raw, flags, lines)
        for c in cols:
            hidden[k][c] = flags[c][0]
            value = rows[k][c]
            shown[k][c] = None if flags[c][0] or value is None else round_count(value, r.base)
    for k, kind in kinds.items():
        if k not in rows or ":" not in kind:
            continue
        how, base = kind.split(":", 1)
        for c in cols:
            if base not in rows:
                hide = True
            elif how == "median":
                hide = is_primary(rows[base][c], r.min_group)
            else:
                hide = hidden[base][c]
            hidden[k][c] = hide
            shown[k][c] = None if hide else rows[k][c]
    order = [row[key] for row in frame.iter_rows(named=True)]
    return frame.with_columns(
        *(pl.Series(c, [shown[k][c] for k in order], dtype=pl.Float64) for c in cols),
        *(pl.Series(f"{c}{SUPPRESSED_SUFFIX}", [hidden[k][c] for k in order], dtype=pl.Boolean) for c in cols),
    )


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------


def title_is_safe(title: str, changes: Changes) -> bool:
    """Whether a headline may stay: it quotes no withdrawn figure, and no figure at all once a cell is hidden.

    A hidden cell can be worked back from a ratio or a difference quoted in the headline ("7.1 times
    as long"), so any number then goes (years and ages excepted).
    """
    if mentions(title, changes.leaked):
        return False
    if any(hidden for _, _, hidden in changes.cells.values()):
        text = re.sub(r"\b(19|20)\d\d\b|\d+ years", "", title)
        return not re.search(r"\d", text)
    return True


def subtitle_measure(spec: ChartSpec) -> str:
    """Return the measure named at the start of the subtitle (before its first comma)."""
    return spec.subtitle.split(",")[0].strip() or spec.title


_MEASURE_PATTERNS = (
    re.compile(r"^(?P<m>.+?) is highest in "),
    re.compile(r"^(?P<m>.+?) is \S+ in each of "),
    re.compile(r"^(?:for .+?, )?(?P<m>.+?) went from ", re.IGNORECASE),
    re.compile(r"^(?:for .+?, )?(?P<m>.+?) was ", re.IGNORECASE),
    re.compile(r"^(?P<m>.+?) is \S+ in "),
    re.compile(r"^(?P<m>.+?) has no value"),
)


def _measure_phrase(spec: ChartSpec) -> str:
    for pattern in _MEASURE_PATTERNS:
        hit = pattern.match(spec.alt_text or "")
        if hit:
            phrase = hit.group("m")
            break
    else:
        phrase = subtitle_measure(spec)
    if len(phrase) > 1 and not phrase[1].isupper():
        phrase = phrase[0].lower() + phrase[1:]
    return phrase


def _plain_date(value: object) -> object:
    return value.date() if isinstance(value, datetime) else value


def published_title(spec: ChartSpec, points: list[Point]) -> str:
    """Return a headline from published values, for a title that quoted a figure no longer shown.

    A trend: "People waiting: 20 in October 2026"; categories: "People waiting are highest in
    Fellside"; else the subtitle's measure.
    """
    measure = subtitle_measure(spec)
    shown = [p for p in points if p.value is not None]
    if not shown:
        return measure
    if all(isinstance(p.category, date | datetime) for p in shown) and len({p.series for p in shown}) == 1:
        last = max(shown, key=lambda p: _plain_date(p.category))
        return f"{measure}: {_format_value(last)} in {fmt_month(_plain_date(last.category))}"
    if len({p.series for p in shown}) == 1 and len(shown) > 1:
        top = max(shown, key=lambda p: p.value)
        return f"{measure}: highest in {top.category}"
    return measure


def _format_value(point: Point) -> str:
    value = point.value
    return fmt_int(value) if float(value).is_integer() else fmt_number(value, 1)


def published_alt_text(spec: ChartSpec, points: list[Point], published: Suppressed) -> str:
    """Return a text alternative stating only published values (highest and lowest, or first and last)."""
    measure = _measure_phrase(spec)
    symbol = published.symbol
    if not points:
        return (
            f"The figures for {measure} are in the data table; counts of people from small areas are "
            f"rounded or shown as {symbol} to protect privacy."
        )
    series = list(dict.fromkeys(p.series for p in points))
    column = max({p.column for p in points}, key=lambda c: sum(p.column == c for p in points))
    chosen = [p for p in points if p.column == column]
    values = [p.value for p in chosen if p.value is not None]
    decimals = [len(t.split(".")[1]) for t in NUMBER.findall(spec.alt_text or "") if "." in t]
    dp = 0 if column in published.count_cols or all(float(v).is_integer() for v in values) else max(decimals or [0])

    def fmt(v: float | None) -> str:
        return fmt_number(v, dp)

    n_hidden = sum(p.hidden for p in chosen)
    tail = ""
    if n_hidden:
        verb = "is" if n_hidden == 1 else "are"
        tail = f" {n_hidden} {verb} shown as {symbol} to protect privacy."
    trend = all(isinstance(p.category, date | datetime) for p in chosen)
    if trend:
        frame = pl.DataFrame(
            {
                "x": [_plain_date(p.category) for p in chosen],
                "y": [p.value for p in chosen],
                "s": [str(p.series) for p in chosen],
            },
            schema={"x": pl.Date, "y": pl.Float64, "s": pl.String},
        )
        text = describe_trend(
            frame, "x", "y", measure=measure, color="s" if len(series) > 1 else None, value_format=fmt
        )
        return text + tail
    labels = [str(p.category) if len(series) == 1 else f"{p.category}, {p.series}" for p in chosen]
    frame = pl.DataFrame(
        {"label": labels, "value": [p.value for p in chosen]}, schema={"label": pl.String, "value": pl.Float64}
    )
    noun = "bars" if len(series) > 1 else "categories"
    found = re.search(r"across \d+ (\w+)", spec.alt_text or "")
    if found and len(series) == 1:
        noun = found.group(1)
    return describe_extremes(frame, "label", "value", measure=measure, value_format=fmt, noun=noun, suppressed=n_hidden)


# ---------------------------------------------------------------------------------------------
# The one entry point
# ---------------------------------------------------------------------------------------------


COUNCIL_LEVEL_NOTE = "Whole-council figures: small-number suppression applies below council level, so none is needed"
NO_COUNTS_NOTE = "No counts of people are shown, so small-number suppression is not needed"


def publish(spec: ChartSpec, *, indicator_ids: Sequence[str] = (), council_level: bool | None = None) -> ChartSpec:
    """Return ``spec`` as it may be published (module docstring): small counts of people protected.

    ``indicator_ids``: catalogue ids the chart shows (their ``counts_people`` flags name count
    columns). ``council_level``: ``True`` leaves the chart alone, ``False`` always protects it,
    ``None`` decides with ``is_council_level``. A spec whose data is already ``Suppressed`` is
    returned with the rule in its footnote.
    """
    if spec.data is None:
        return spec
    if isinstance(spec.data, Suppressed):
        if spec.suppression_note:
            return spec
        return _restyled(replace(spec, suppression_note=spec.data.rule_text))
    level = is_council_level(spec) if council_level is None else council_level
    published = publish_frame(spec.data, indicator_ids=indicator_ids, council_level=level)
    if not isinstance(published, Suppressed):
        if spec.suppression_note:
            return spec
        # Every published chart states the rule it was checked against, even when nothing was hidden.
        reason = COUNCIL_LEVEL_NOTE if level else NO_COUNTS_NOTE
        return _restyled(replace(spec, suppression_note=reason))
    raw = spec.data
    changes = find_changes(raw, published)
    note = spec.suppression_note or published.rule_text
    if spec.figure is None:
        return replace(spec, data=published, suppression_note=note)
    fig = copy_figure(spec.figure)
    ok, points = patch_figure(fig, raw, published)
    title, alt = spec.title, spec.alt_text
    if changes:
        if not title_is_safe(spec.title, changes):
            title = published_title(spec, points)
        alt = published_alt_text(spec, points, published)
    if not ok:
        fig = withheld_figure(spec)
        alt = published_alt_text(spec, [], published)
    out = replace(spec, title=title, alt_text=alt, data=published, suppression_note=note, figure=fig)
    return _restyled(out)


def _restyled(spec: ChartSpec) -> ChartSpec:
    """Re-apply the house style (title and footnote) to a copy of the figure."""
    if spec.figure is None:
        return spec
    fig = copy_figure(spec.figure)
    spec.style(fig)
    return replace(spec, figure=fig)


def small_counts(frame: pl.DataFrame | Suppressed, threshold: int | None = None) -> list[tuple[str, int, object]]:
    """Return (column, row, value) of every person-count cell showing 1 to ``threshold - 1`` (should be none).

    Reads the display table of a ``Suppressed`` (so ``[c]`` passes) or a plain frame.
    """
    t = rule(threshold).threshold
    if isinstance(frame, Suppressed):
        counts, table = list(frame.count_cols), frame.display
    else:
        counts, table = person_count_columns(frame), frame
    bad = []
    for c in counts:
        for i, v in enumerate(table[c].to_list()):
            try:
                number = float(str(v).replace(",", ""))
            except ValueError:
                continue
            if 0 < number < t:
                bad.append((c, i, v))
    return bad


__all__ = [
    "NON_GEOGRAPHIC_LABELS",
    "derived_columns",
    "group_columns",
    "is_council_level",
    "label_columns",
    "patch_figure",
    "person_count_columns",
    "publish",
    "publish_frame",
    "publish_headline",
    "publish_split",
    "published_alt_text",
    "small_counts",
    "subtitle_measure",
    "suppression_rule_text",
    "withheld_figure",
]
