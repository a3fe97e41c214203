"""The summary a cabinet member reads first: headline tiles and key messages for one area and month.

Page 1 of the briefing pack PDF, slide 1 of the deck and the Overview in presentation mode all
show ``summary(cur, filters)``: the council, the as-of date and the scope; ``SUMMARY_MEASURES``
(8 headline tiles, each with its change on last month and last year and its RAG mark); and 3 to 6
key messages: the largest moves since last month in plain sentences (``views.overview``'s rule-based
writer) followed by the headlines of the pack's charts.

``published=True`` (always in a pack) builds everything from ``publication.publish_headline``: in a
locality, counts of people are rounded to 5 or read ``[c]``, hours and waits of hidden people read
``[c]`` too, and every sentence quotes only those published figures. Whole-council figures are
shown as they are (as national figures under the NHS Digital rule).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import duckdb
import polars as pl

from analytics.formatting import fmt_month
from analytics.publish.publication import publish_headline
from analytics.publish.suppression import SUPPRESSED_SUFFIX, rule
from analytics.views import overview
from analytics.views.common import Tile
from analytics.views.filters import Filters

# The 8 tiles of the summary, in reading order (columns of ``overview.monthly_headline``).
SUMMARY_MEASURES = (
    "people_in_service",
    "planned_hours_per_week",
    "people_waiting",
    "hours_waiting",
    "median_wait_days",
    "providers_active",
    "cr1_pct",
    "areas_under_min_providers",
)
MIN_MESSAGES, MAX_MESSAGES = 3, 6


@dataclass(frozen=True)
class Summary:
    """What the summary page shows (see the module docstring).

    ``tiles``: up to 8 ``Tile``s (a hidden figure reads ``[c]`` with no change or RAG);
    ``month_label`` / ``year_label``: the months the changes compare with; ``messages``: 3 to 6
    sentences; ``scope``: area, month and service in words; ``published``: small numbers protected.
    """

    scope: str
    month: date
    tiles: list[Tile]
    month_label: str
    year_label: str
    messages: list[str]
    published: bool


def headline_frame(cur: duckdb.DuckDBPyConnection, filters: Filters, *, published: bool) -> pl.DataFrame:
    """Return ``overview.monthly_headline`` as it may be shown: published in a locality when ``published``.

    Hidden cells are null and flagged ``<column>_suppressed``.
    """
    frame = overview.monthly_headline(cur, filters)
    if not published or filters.locality is None or frame.is_empty():
        return frame
    return publish_headline(frame).values


def _hidden(frame: pl.DataFrame, column: str, month: date) -> bool:
    flag = f"{column}{SUPPRESSED_SUFFIX}"
    if flag not in frame.columns:
        return False
    hit = frame.filter(pl.col("month") == month)
    return bool(hit.height and hit.item(0, flag))


def shown_tiles(frame: pl.DataFrame, month: date, columns: tuple[str, ...] | None = None) -> list[Tile]:
    """Return the Overview tiles of ``frame`` at ``month`` (all, or ``columns``): hidden ones read ``[c]``."""
    symbol = rule().symbol
    out = []
    for measure, tile in zip(overview.MEASURES, overview.tiles(frame, month), strict=True):
        if columns is not None and measure.column not in columns:
            continue
        if _hidden(frame, measure.column, month):
            tile = replace(tile, value=None, text=symbol, delta_month=None, delta_year=None, rag=None)
        out.append(tile)
    if columns is not None:
        order = {c: k for k, c in enumerate(columns)}
        cols = [m.column for m in overview.MEASURES if m.column in order]
        out = [t for _, t in sorted(zip(cols, out, strict=True), key=lambda p: order[p[0]])]
    return out


def key_messages(frame: pl.DataFrame, month: date, headlines: list[str] = ()) -> list[str]:
    """Return 3 to 6 key messages: up to 3 change sentences (largest moves first), then chart ``headlines``.

    Every sentence comes from ``frame`` (published figures when the frame is) or from a chart's
    published headline, so none quotes a hidden or unrounded figure.
    """
    out: list[str] = []
    for sentence in overview.change_sentences(frame, month, limit=3):
        if sentence not in out:
            out.append(sentence)
    for title in headlines:
        if len(out) >= MAX_MESSAGES:
            break
        text = title.strip()
        if not text:
            continue
        text = text if text.endswith((".", "?", "!")) else text + "."
        if text.lower() not in {m.lower() for m in out}:
            out.append(text)
    return out[:MAX_MESSAGES]


def scope_text(filters: Filters) -> str:
    """Return the area, month and service in words: "Whole council, October 2026, home care"."""
    label = filters.area_label()
    parts = [label[:1].upper() + label[1:], fmt_month(filters.month)]
    for value in (filters.service_type, filters.client_group, filters.funding, filters.provider_type):
        if value:
            parts.append(value.replace("_", " "))
    return ", ".join(parts)


def summary(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, published: bool = True, headlines: tuple[str, ...] = ()
) -> Summary:
    """Return the summary for ``filters`` (module docstring); ``headlines``: the pack's chart headlines."""
    frame = headline_frame(cur, filters, published=published)
    month_label, year_label = overview.comparison_labels(frame, filters.month)
    symbol = rule().symbol
    tiles = [t for t in shown_tiles(frame, filters.month, SUMMARY_MEASURES) if t.value is not None or t.text == symbol]
    return Summary(
        scope=scope_text(filters),
        month=filters.month,
        tiles=tiles,
        month_label=month_label,
        year_label=year_label,
        messages=key_messages(frame, filters.month, list(headlines)),
        published=published,
    )


def overview_view(cur: duckdb.DuckDBPyConnection, filters: Filters, published: bool = False) -> overview.OverviewView:
    """Return the Overview page; with ``published``, tiles and "What changed" from the published figures.

    In publication mode a locality's sentences then say "rose from 25 to 30", never the raw "28 to 20".
    """
    view = overview.overview(cur, filters)
    if not published or filters.locality is None:
        return view
    frame = headline_frame(cur, filters, published=True)
    month_label, year_label = overview.comparison_labels(frame, filters.month)
    return replace(
        view,
        tiles=shown_tiles(frame, filters.month),
        sentences=overview.change_sentences(frame, filters.month),
        month_label=month_label,
        year_label=year_label,
    )


__all__ = [
    "MAX_MESSAGES",
    "MIN_MESSAGES",
    "SUMMARY_MEASURES",
    "Summary",
    "headline_frame",
    "key_messages",
    "overview_view",
    "scope_text",
    "shown_tiles",
    "summary",
]
