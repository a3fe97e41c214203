"""Seeded sweep of councils shaped in random COMBINATIONS of ``CouncilShape`` options (not a pytest test).

``tests/test_councils.py`` runs every page on ``analytics.demo.SHAPES``, councils that each change one
thing. This draws councils that change several at once (one locality + no RUC + only microenterprises
+ two months of history; many providers + no populations + staggered file starts; ...) and as-of
dates the default never uses (month ends, the 1st of a month, 29 February 2024, 31 December, mid
month), and looks for what breaks. Run from the project root:

    .venv/bin/python tests/fuzz_councils.py --seed 7 --count 30 --jobs 2
    .venv/bin/python tests/fuzz_councils.py --seed 7 --only 12      # re-run one combination of that seed
    .venv/bin/python tests/fuzz_councils.py --seed 7 --count 30 --no-apptest   # charts and pack only
    .venv/bin/python tests/fuzz_councils.py --seed 11 --count 12 --no-apptest --public   # what a public paper shows

For each combination (``people_share`` 0.02 to 0.2, so each loads in a few seconds) it generates the
drop (``analytics.demo.generate_drop``), refreshes it into a store of its own
(``analytics.store.snapshots.refresh``) and, reusing the test suite's support code:

* walks every page registered in ``dashboard.py`` in one ``AppTest`` session with the default
  filters, then again with a locality, a service type, the month before and a month over a year
  before (often before the data starts), and the rarest client group, funding and provider type,
  each alone and with a locality, chosen in the sidebar (``council_support.messages`` reads the
  notices);
* builds every chart of the chart registry for the same filters and runs the headline audit
  (``headline_audit.audit_spec``) on each, raw and as published;
* builds the briefing pack's content: the summary and each chart as the pack publishes it
  (``analytics.briefing.assembly.publishable``, ``summary``), no PDF or PowerPoint.

With ``--public`` it also checks what leaves the dashboard for a public paper, for the default
filters and the rarest client group, funding and provider type, each for the whole council and its
two smallest localities (``docs/exports.md``): every chart as published (``registry.publish_spec``),
all of them, since every chart's CSV and Excel download is published; its data, CSV and Excel
download, and the figure's values, customdata, text and hover (a hidden count never appears there);
its title, subtitle and text alternative; the pack summary's tiles and messages. Below council
level no count of people from 1 to 7 may show (in a table or in words, "3 people"), every count is
rounded, no cell reads "nan"/"None"/"inf" or is left blank; and ``disclosure_attack.attack`` tries
to recover every hidden cell from the tables those filters publish (``test_disclosure_attack``'s
``_frame_tables`` and ``_tile_tables``). Council-wide figures are not small-area figures and are
left as they are.

It records every exception, every error box, every headline-audit failure, and page or pack text
that says what no data can support ("nan", "None", "inf", a negative count, a percentage of zero,
1970 dates from blank ones). Output: one line per combination and a JSON report
(``--out``, default ``build/fuzz/report-SEED.json``) listing each combination's shape, as-of date
and findings. A combination so small that no package is left (one ward with demand, 2% of the people)
is refused by the contract, as it should be, and counted as skipped. Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
for path in (ROOT, TESTS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

DASHBOARD = ROOT / "dashboard.py"

# ---------------------------------------------------------------------------------------------
# Drawing a combination


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def draw_as_of(rng: random.Random) -> date:
    """An as-of date: a month end, the 1st, 29 February 2024, 31 December, or a day mid-month."""
    year, month = rng.choice([2024, 2025, 2026]), rng.randint(1, 12)
    kind = rng.choice(["month_end", "month_end", "first", "leap", "december", "mid", "default"])
    if kind == "first":
        return date(year, month, 1)
    if kind == "leap":
        return date(2024, 2, 29)
    if kind == "december":
        return date(year, 12, 31)
    if kind == "mid":
        return date(year, month, rng.randint(2, 27))
    if kind == "default":
        return date(2026, 10, 31)
    return _month_end(year, month)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def draw_shape(rng: random.Random, as_of: date):
    """A ``CouncilShape`` changing several options at once (each option drawn on its own)."""
    from analytics.demo.shape import OPTIONAL_FILES, CouncilShape

    single, micro = rng.random() < 0.15, rng.choice(["some", "some", "none", "only"])
    providers = rng.choice([0] * 6 + [120, 200])
    if micro == "only" and (single or providers):
        micro = "some"  # both need agencies (``CouncilShape`` refuses the mix)
    omit = frozenset(f for f in OPTIONAL_FILES if rng.random() < 0.25)
    history = rng.choice([1, 2, 3, 4, 6, 12, 13, 24, 36, 36])
    starts = []
    if rng.random() < 0.25:
        for file in ("packages", "requests", "delivery", "workforce"):
            if rng.random() < 0.6:
                first = _months_back(as_of, rng.randint(0, history - 1))
                starts.append((file, first + timedelta(days=rng.choice([0, 0, 5, 14]))))
    return CouncilShape(
        omit=omit,
        coordinates=rng.random() > 0.2,
        history_months=history,
        file_starts=tuple(starts),
        localities=rng.choice(["five", "five", "one", "none"]),
        microenterprises=micro,
        ruc=rng.choice(["ruc21", "ruc21", "ruc11", "none"]),
        populations=rng.random() > 0.25,
        single_provider=single,
        providers=providers,
        ended_providers=rng.choice([0] * 5 + [1, 3, 8]),
        empty_areas=rng.choice([0] * 5 + [1, 4, 15, 29]),
        service_types=rng.choice(["demo", "demo", "home_care", "all"]),
        people_share=round(rng.uniform(0.02, 0.2), 3),
    )


def combinations(seed: int, count: int) -> list[tuple[int, date, object]]:
    """``[(index, as_of, shape), ...]``: the same seed always draws the same combinations."""
    rng = random.Random(seed)
    out = []
    for k in range(count):
        as_of = draw_as_of(rng)
        out.append((k, as_of, draw_shape(rng, as_of)))
    return out


def describe(shape) -> dict:
    """The options of ``shape`` that differ from Northdale's, as JSON-ready values."""
    from analytics.demo.shape import NORTHDALE

    out = {}
    for key, value in asdict(shape).items():
        if value != getattr(NORTHDALE, key):
            if isinstance(value, frozenset | set):
                value = sorted(value)
            elif key == "file_starts":
                value = [[f, d.isoformat()] for f, d in value]
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# What text may not say

COUNTED = "people|providers|packages|requests|agencies|areas|wards|staff|posts|contracts"
UNSUPPORTED = [
    (re.compile(r"\bnan\b", re.IGNORECASE), "'nan' shown"),
    (re.compile(r"\bNone\b(?! of)"), "'None' shown"),
    (re.compile(r"\bNaT\b|\bnull\b"), "'NaT'/'null' shown"),
    (re.compile(r"(?<![\w.])-?inf\b|infinity|∞", re.IGNORECASE), "infinity shown"),
    (re.compile(r"\b\d[\d.]*% of (?:the )?(?:0|no|zero)\b"), "a percentage of zero"),
    (re.compile(r"\b0 of 0\b"), "'0 of 0'"),
    (re.compile(rf"(?<![\w£+])[-−]\s?\d[\d,]*\s+(?:{COUNTED})\b"), "a negative count"),
    (re.compile(r"\b1970\b"), "a 1970 date (a blank date read as zero)"),
    (re.compile(r"\{[a-z_]+\}"), "an unfilled {placeholder}"),
]


def text_problems(where: str, texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        for pattern, what in UNSUPPORTED:
            m = pattern.search(text)
            if m:
                start = max(0, m.start() - 80)
                out.append(f"{where}: {what}: ...{text[start : m.end() + 80]}...")
    return out


def page_texts(at) -> list[str]:
    """Every sentence the page shows: headings, markdown, captions, tiles, notices, chart titles and axes."""
    out = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        out += [f"{m.label}: {m.value} ({m.delta})"]
    for element in at.get("plotly_chart"):
        layout = json.loads(element.proto.spec).get("layout", {})
        title = layout.get("title", {})
        out += [title.get("text", ""), title.get("subtitle", {}).get("text", "")]
        for axis in ("xaxis", "yaxis"):
            out.append(str(layout.get(axis, {}).get("title", {}).get("text", "")))
    return [t for t in out if t]


# ---------------------------------------------------------------------------------------------
# One combination


def _variants(options, default) -> list[tuple[str, object]]:
    """The default filters, then a locality, a service type and an earlier month (where the drop has them)."""
    out = [("default", default)]
    if options.localities:
        out.append((f"locality={options.localities[-1]}", replace(default, locality=options.localities[-1])))
    others = [s for s in options.service_types if s != default.service_type]
    if others:
        out.append((f"service={others[-1]}", replace(default, service_type=others[-1])))
    for back in (1, 13):  # the month before, and a year and more before (maybe before the data starts)
        if len(options.months) > back:
            month = options.months[back]
            out.append((f"month={month.isoformat()}", replace(default, month=month)))
    return out + _other_filters(options, default)


def _other_filters(options, default) -> list[tuple[str, object]]:
    """A client group, a funding and a provider type chosen in the sidebar, alone and with a locality.

    The last value of each list (the rarest, as the drop lists them: the small groups where numbers are
    small), each with the whole council and with the last locality.
    """
    out = []
    for field, name, values in (
        ("client_group", "client", options.client_groups),
        ("funding", "funding", options.funding),
        ("provider_type", "ptype", options.provider_types),
    ):
        if not values:
            continue
        chosen = replace(default, **{field: values[-1]})
        out.append((f"{name}={values[-1]}", chosen))
        if options.localities:
            place = options.localities[-1]
            out.append((f"{name}={values[-1]}+locality={place}", replace(chosen, locality=place)))
    return out


def _published_walks(options, default) -> list[tuple[str, object]]:
    """Publication mode switched on, in a locality alone and with the rarest client group (``--public``)."""
    if not options.localities:
        return []
    place = replace(default, locality=options.localities[-1])
    out = [(f"published+locality={place.locality}", place)]
    if options.client_groups:
        out.append(
            (
                f"published+client={options.client_groups[-1]}+locality={place.locality}",
                replace(place, client_group=options.client_groups[-1]),
            )
        )
    return out


def _walk(store: Path, pages: list[str], default_page: str, label: str, filters) -> list[str]:
    """Every page in one AppTest session with ``filters`` chosen in the sidebar; return what is wrong."""
    from council_support import messages
    from streamlit.testing.v1 import AppTest

    from analytics.views.filters import ALL

    os.environ["MARKET_DATA_DIR"] = str(store)
    problems = []
    at = AppTest.from_file(str(DASHBOARD), default_timeout=120).run()
    if label != "default":
        at.selectbox(key="f_month").set_value(filters.month)
        at.selectbox(key="f_locality").set_value(filters.locality or ALL)
        at.selectbox(key="f_service").set_value(filters.service_type or ALL)
        at.selectbox(key="f_client").set_value(filters.client_group or ALL)
        at.selectbox(key="f_funding").set_value(filters.funding or ALL)
        at.selectbox(key="f_ptype").set_value(filters.provider_type or ALL)
        at.run()
    published = label.startswith("published")
    if published:
        at.toggle(key="publication_mode").set_value(True).run()
    for page in pages:
        if page != default_page:
            at.switch_page(page).run()
        where = f"page {page} [{label}]"
        problems += [f"{where}: exception: {e.message} {''.join(e.stack_trace)[-600:]}" for e in at.exception]
        problems += [f"{where}: error box: {m}" for m in messages(at) if m in [e.value for e in at.error]]
        problems += text_problems(where, page_texts(at))
        problems += table_problems(where, at)
        if published and filters.locality:
            problems += published_page_problems(where, at)
    return problems


def published_page_problems(where: str, at) -> list[str]:
    """A page in publication mode below council level: no count of people from 1 to 7 in words,
    tiles or the columns of its tables that count people."""
    from analytics.publish.suppression import rule

    threshold = rule().threshold
    out = small_in_words(where, page_texts(at), threshold)
    for k, element in enumerate(at.dataframe):
        frame = element.value
        for column in frame.columns:
            name = str(column).lower()
            if not re.search(r"\b(people|packages|customers|requests)\b", name) or re.search(r"per|%|share|rate", name):
                continue
            small = [v for v in frame[column].tolist() if (n := _num(v)) is not None and 0 < n < threshold]
            if small:
                out.append(f"{where}: table {k} column {column!r} shows {small[:5]}")
    return out


def table_problems(where: str, at) -> list[str]:
    """Infinite numbers, and cells reading "nan", "None" or "inf", in the page's tables."""
    import numpy as np

    out = []
    for k, element in enumerate(at.dataframe):
        frame = element.value
        for column in frame.columns:
            values = frame[column]
            if values.dtype.kind == "f" and np.isinf(values.to_numpy()).any():
                out.append(f"{where}: table {k} column {column!r}: an infinite number")
            elif values.dtype == object:
                bad = {str(v) for v in values if isinstance(v, str) and v.strip().lower() in {"nan", "none", "inf"}}
                if bad:
                    out.append(f"{where}: table {k} column {column!r}: cells read {sorted(bad)}")
    return out


def _charts(cur, label: str, filters) -> tuple[list[str], int, int]:
    """Every registry chart built and audited (raw and published); return problems, built, checked."""
    from headline_audit import audit_spec

    from analytics.briefing import registry
    from analytics.briefing.view_charts import ChartUnavailable

    problems, built, checked = [], 0, 0
    for chart_id in registry.chart_ids():
        where = f"chart {chart_id} [{label}]"
        for published in (False, True):
            try:
                fn = registry.build_published if published else registry.build
                spec = fn(cur, chart_id, filters)
            except ChartUnavailable:
                break
            except Exception as exc:  # noqa: BLE001 - every exception is a finding
                problems.append(f"{where}{' published' if published else ''}: exception: {exc!r} {_tail()}")
                break
            built += not published
            if spec.figure is None:
                if not spec.alt_text:
                    problems.append(f"{where}: draws nothing and says nothing")
                break
            problems += text_problems(where, [spec.title or "", spec.subtitle or ""])
            try:
                checked += audit_spec(spec)
            except AssertionError as exc:
                problems.append(f"{where}{' published' if published else ''}: headline audit: {exc}")
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{where}: headline audit crashed: {exc!r} {_tail()}")
    return problems, built, checked


def _pack(cur, label: str, filters) -> list[str]:
    """The briefing pack's content for ``filters``: each chart as published, then the summary."""
    from analytics.briefing import registry
    from analytics.briefing.assembly import BriefItem, publishable
    from analytics.briefing.summary import summary

    problems, titles = [], []
    for chart_id in registry.chart_ids():
        try:
            spec, note, _, _ = publishable(cur, BriefItem(chart_id, filters))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"pack chart {chart_id} [{label}]: exception: {exc!r} {_tail()}")
            continue
        if spec is not None:
            titles.append(spec.title)
            problems += text_problems(f"pack chart {chart_id} [{label}]", [spec.title or "", note or ""])
    try:
        made = summary(cur, filters, published=True, headlines=tuple(titles))
    except Exception as exc:  # noqa: BLE001
        return [*problems, f"pack summary [{label}]: exception: {exc!r} {_tail()}"]
    texts = [made.scope, made.month_label, made.year_label, *made.messages]
    for tile in made.tiles:
        texts += [f"{tile.label}: {v}" for v in asdict(tile).values() if isinstance(v, str)]
    return [*problems, *text_problems(f"pack summary [{label}]", texts)]


# ---------------------------------------------------------------------------------------------
# What a public paper may show (``--public``)

PEOPLE_WORDS = "people|person|packages|package|requests|request|customers|customer|clients|client"
SMALL_PEOPLE = re.compile(rf"(?<![\w.,£])([1-9]\d*)\s+(?:more\s+|fewer\s+)?(?:{PEOPLE_WORDS})\b", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def small_in_words(where: str, texts: list[str], threshold: int) -> list[str]:
    """A count of people from 1 to ``threshold - 1`` written in a public sentence ("3 people waiting")."""
    out = []
    for text in texts:
        for m in SMALL_PEOPLE.finditer(text or ""):
            if 0 < int(m.group(1)) < threshold:
                out.append(f"{where}: a small count in words: ...{text[max(0, m.start() - 80) : m.end() + 80]}...")
    return out


def _figure_numbers(figure) -> set[float]:
    """Every number a published figure carries: drawn values, customdata, and numbers in its text and hover."""
    out: set[float] = set()

    def add(value) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            out.add(float(value))
        elif isinstance(value, str):
            out.update(float(n.replace(",", "")) for n in NUMBER.findall(value))
        elif isinstance(value, list | tuple):
            for v in value:
                add(v)
        elif hasattr(value, "tolist"):
            add(value.tolist())

    for trace in figure.to_dict().get("data", []):
        if trace.get("mode") == "text":  # the [c] labels
            continue
        for key in ("x", "y", "z", "customdata", "text", "hovertext"):
            add(trace.get(key))
    return out


def figure_strings(figure) -> list[str]:
    """The words a published figure carries: titles, annotations, text and hover of every trace."""
    data = figure.to_dict()
    layout = data.get("layout", {})
    out = [
        str(layout.get("title", {}).get("text", "")),
        str(layout.get("title", {}).get("subtitle", {}).get("text", "")),
    ]
    out += [str(a.get("text", "")) for a in layout.get("annotations", [])]
    for trace in data.get("data", []):
        for key in ("text", "hovertext", "name"):
            value = trace.get(key)
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, list | tuple):
                out += [str(v) for v in value if isinstance(v, str)]
    return [t for t in out if t]


def _xlsx_cells(content: bytes) -> list[list[object]]:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for row in book["Data"].iter_rows(min_row=4, values_only=True)]


def _published_chart(cur, chart_id: str, filters, where: str, threshold: int) -> list[str]:
    """One chart as a public download and paper would show it: data, CSV, Excel, figure and words."""
    from disclosure_attack import csv_view

    from analytics.briefing import registry
    from analytics.briefing.view_charts import ChartUnavailable
    from analytics.publish.exports import chart_csv, chart_xlsx
    from analytics.publish.publication import person_count_columns, small_counts
    from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed, rule

    entry = registry.entry(chart_id)
    try:
        spec = registry.build(cur, chart_id, filters)
        published = registry.publish_spec(cur, chart_id, spec, filters)
    except ChartUnavailable:
        return []
    problems = []
    words = [published.title or "", published.subtitle or "", published.alt_text or ""]
    problems += text_problems(where, words)
    if entry.council_level(filters):
        return problems  # the whole council: not a small-area figure (docs/exports.md)
    problems += small_in_words(where, words, threshold)
    if published.figure is not None:
        problems += small_in_words(f"{where} figure", figure_strings(published.figure), threshold)
        problems += text_problems(f"{where} figure", figure_strings(published.figure))
    data = published.data
    if data is None:
        return problems
    if not isinstance(data, Suppressed):
        counts = person_count_columns(data, entry.indicator_ids)
        if counts:
            problems.append(f"{where}: published unsuppressed with person counts {counts}")
        return problems
    problems += [f"{where}: published data shows {c} row {i} = {v}" for c, i, v in small_counts(data)]
    base = rule().base
    for c in data.count_cols:
        unrounded = [v for v in data.values[c].to_list() if v is not None and v % base]
        if unrounded:
            problems.append(f"{where}: {c} not rounded to {base}: {unrounded[:5]}")
    try:
        shown = csv_view(chart_csv(published))
        cells = _xlsx_cells(chart_xlsx(published))
    except Exception as exc:  # noqa: BLE001
        return [*problems, f"{where}: download failed: {exc!r} {_tail()}"]
    for c in [c for c in data.count_cols if c in shown.columns]:
        small = [v for v in shown[c].to_list() if (n := _num(v)) is not None and 0 < n < threshold]
        if small:
            problems.append(f"{where}: CSV column {c} shows {small[:5]}")
    bad = {
        str(v)
        for col in shown.iter_columns()
        for v in col.to_list()
        if v is not None and v.strip().lower() in {"nan", "none", "inf", "-inf", "null"}
    }
    bad |= {
        str(v)
        for row in cells
        for v in row
        if isinstance(v, str) and v.strip().lower() in {"nan", "none", "inf", "null"}
    }
    bad |= {str(v) for row in cells for v in row if isinstance(v, float) and not math.isfinite(v)}
    if bad:
        problems.append(f"{where}: downloads read {sorted(bad)}")
    blank = [c for c in [*data.count_cols, *data.derived_cols] if c in shown.columns and shown[c].null_count()]
    if blank:
        problems.append(f"{where}: CSV cells left blank (not [c] or [x]) in {blank}")
    header = [str(h) for h in cells[0]] if cells else []
    for c in data.count_cols:
        if c in header:
            k = header.index(c)
            small = [row[k] for row in cells[1:] if isinstance(row[k], int | float) and 0 < row[k] < threshold]
            if small:
                problems.append(f"{where}: Excel column {c} shows {small[:5]}")
    # A hidden count never reaches the figure: not drawn, nor in its hover, text or customdata.
    raw = spec.data.values if isinstance(spec.data, Suppressed) else spec.data
    if entry.counts is not None and not isinstance(spec.data, Suppressed):
        raw = entry.counts(cur, filters, raw)
    if published.figure is not None and raw is not None and raw.height == data.values.height:
        in_figure = _figure_numbers(published.figure)
        visible = {
            float(v)
            for col, t in data.values.schema.items()
            if t.is_numeric()
            for v in data.values[col].to_list()
            if v is not None
        }
        visible |= {float(round(v, k)) for v in visible for k in (0, 1)}  # as hover and labels round them
        for c in [c for c in data.count_cols if c in raw.columns and f"{c}{SUPPRESSED_SUFFIX}" in data.values.columns]:
            flags = data.values[f"{c}{SUPPRESSED_SUFFIX}"].to_list()
            hidden = {float(v) for v, h in zip(raw[c].to_list(), flags, strict=True) if h and v}
            leaked = (hidden & in_figure) - visible
            if leaked:
                problems.append(f"{where}: hidden {c} {sorted(leaked)[:5]} in the figure (values, hover, text)")
    return problems


def _num(text) -> float | None:
    try:
        return float(str(text).replace(",", "").replace("£", ""))
    except ValueError:
        return None


def _smallest_localities(cur, filters, n: int) -> list[str]:
    import polars as pl

    from analytics.store.queries import filter_options
    from analytics.views import overview

    sizes = {}
    for name in filter_options(cur).localities:
        frame = overview.monthly_headline(cur, replace(filters, locality=name))
        frame = frame.filter(pl.col("month") == filters.month)
        sizes[name] = frame["people_in_service"].sum() if frame.height else 0
    return sorted(sizes, key=sizes.get)[:n]


def _public(cur, options, default) -> tuple[list[str], int, int]:
    """Everything a public paper or download could show, for each filter base, the whole council and
    its two smallest localities; then the disclosure attack on those tables. Return problems, tables, cells."""
    from disclosure_attack import attack
    from test_disclosure_attack import _frame_tables, _tile_tables

    from analytics.briefing import registry
    from analytics.briefing.summary import summary
    from analytics.publish.suppression import rule

    threshold = rule().threshold
    bases = [("default", default)]
    bases += [(label, f) for label, f in _other_filters(options, default) if "+locality" not in label]
    problems, tables, cells = [], 0, 0
    for label, base in bases:
        chosen = [None, *_smallest_localities(cur, base, 2)]
        attacked = []
        for place in chosen:
            filters = replace(base, locality=place)
            where = f"[public {label}{f' locality={place}' if place else ''}]"
            for chart_id in registry.chart_ids():
                try:
                    problems += _published_chart(cur, chart_id, filters, f"chart {chart_id} {where}", threshold)
                except Exception as exc:  # noqa: BLE001
                    problems.append(f"chart {chart_id} {where}: exception: {exc!r} {_tail()}")
            try:
                made = summary(cur, filters, published=True)
                texts = [made.scope, *made.messages]
                texts += [f"{t.label}: {v}" for t in made.tiles for v in asdict(t).values() if isinstance(v, str)]
                problems += text_problems(f"pack summary {where}", texts)
                if place is not None:
                    problems += small_in_words(f"pack summary {where}", texts, threshold)
                attacked += _frame_tables(cur, filters, label) + _tile_tables(cur, filters, label)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"public tables {where}: exception: {exc!r} {_tail()}")
        result = attack(attacked)
        tables, cells = tables + result.tables, cells + int(result.cells)
        problems += [f"disclosure attack [public {label}]: recovered {r}" for r in result.recovered]
    return problems, tables, cells


def _tail() -> str:
    return " | ".join(line.strip() for line in traceback.format_exc().strip().splitlines()[-5:-1])


def run_one(item: tuple[int, date, object], work: str, apptest: bool, public: bool = False) -> dict:
    """Generate, refresh and check one combination; return its record."""
    from test_pages import default_page, registered_pages

    from analytics.demo import generate_drop
    from analytics.store import snapshots
    from analytics.store.queries import filter_options
    from analytics.views.filters import default_filters

    index, as_of, shape = item
    folder = Path(work) / f"c{index:03d}"
    started = time.perf_counter()
    record = {"index": index, "as_of": as_of.isoformat(), "shape": describe(shape), "problems": []}
    try:
        generate_drop(folder / "drop", as_of=as_of, shape=shape)
    except Exception as exc:  # noqa: BLE001
        record["problems"].append(f"generator: {exc!r} {_tail()}")
        return record
    result = snapshots.refresh(folder / "drop", folder / "store", loaded_by="fuzz")
    if not result.accepted:
        errors = result.result.errors
        if errors.height and set(errors.get_column("rule")) == {"data rows"}:
            # a combination too small to exist (every package dropped): the contract rightly refuses an empty file
            record["skipped"] = (
                f"no rows in {', '.join(sorted(set(errors.get_column('file'))))}: refused, as it should be"
            )
            return record
        record["problems"].append(f"refresh refused the generated drop: {str(result)[:1500]}")
        return record
    cur = snapshots.market_cursor(snapshots.open_live(folder / "store"))
    options = filter_options(cur)
    variants = _variants(options, default_filters(options))
    record["filters"] = [label for label, _ in variants]
    built = checked = 0
    for label, filters in variants:
        problems, b, c = _charts(cur, label, filters)
        record["problems"] += problems
        built, checked = built + b, checked + c
        record["problems"] += _pack(cur, label, filters)
    record["charts_built"], record["headline_checks"] = built, checked
    if public:
        problems, tables, cells = _public(cur, options, default_filters(options))
        record["problems"] += problems
        record["public_tables_attacked"], record["suppressed_cells_attacked"] = tables, cells
    if apptest:
        pages = registered_pages()
        walks = variants + (_published_walks(options, default_filters(options)) if public else [])
        for label, filters in walks:
            try:
                record["problems"] += _walk(folder / "store", pages, default_page(), label, filters)
            except Exception as exc:  # noqa: BLE001 - AppTest itself failed (a timeout, a widget value refused)
                record["problems"].append(f"AppTest walk [{label}] failed: {exc!r} {_tail()}")
        record["pages"] = len(pages) * len(walks)
    record["seconds"] = round(time.perf_counter() - started, 1)
    return record


def _init(key_file: str) -> None:
    os.environ["MARKET_KEY_FILE"] = key_file
    from streamlit import config

    config.set_option("server.address", "127.0.0.1")  # AppTest runs as a local server would
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False  # as conftest's steady_navigation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--only", type=int, nargs="*", help="run only these combination numbers of the seed")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--no-apptest", action="store_true", help="skip the AppTest page walks")
    parser.add_argument(
        "--public", action="store_true", help="also check every public output: downloads, figures, pack, attack"
    )
    parser.add_argument("--keep", type=Path, help="keep drops and stores in this folder (default: a temp folder)")
    parser.add_argument("--out", type=Path, help="JSON report (default build/fuzz/report-SEED.json)")
    args = parser.parse_args(argv)

    items = combinations(args.seed, args.count if not args.only else max(args.only) + 1)
    if args.only:
        items = [i for i in items if i[0] in set(args.only)]
    work = args.keep or Path(tempfile.mkdtemp(prefix="fuzz-councils-"))
    work.mkdir(parents=True, exist_ok=True)
    key = work / "pseudonym.key"
    from analytics.ingest.pseudonymise import load_or_create_key

    load_or_create_key(key)
    out = args.out or ROOT / "build" / "fuzz" / f"report-{args.seed}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    records = []
    import fuzz_councils  # by module name: AppTest replaces a worker's ``__main__`` with dashboard.py

    with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init, initargs=(str(key),)) as pool:
        futures = [
            pool.submit(fuzz_councils.run_one, item, str(work), not args.no_apptest, args.public) for item in items
        ]
        for future in futures:
            record = future.result()
            records.append(record)
            status = (
                f"skipped ({record['skipped']})" if "skipped" in record else f"{len(record['problems']):>3} problems"
            )
            print(
                f"#{record['index']:>3} as_of {record['as_of']} {status} "
                f"{record.get('seconds', '-')} s  {json.dumps(record['shape'])}",
                flush=True,
            )
            for problem in record["problems"]:
                print(f"      {problem[:400]}", flush=True)
    found = sum(len(r["problems"]) for r in records)
    skipped = sum("skipped" in r for r in records)
    out.write_text(json.dumps({"seed": args.seed, "combinations": records}, indent=1, default=str), encoding="utf-8")
    took = time.perf_counter() - started
    print(f"{len(records)} combinations (seed {args.seed}; {skipped} too small), {found} problems, {took:.0f} s")
    print(f"report: {out}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
