"""What the live drop cannot show, and why, in plain English: one place for every page and chart.

A council's drop may leave out optional files (requests, delivery, workforce, milestones,
boundaries) or optional columns (RUC classes, populations), or have no microenterprise at all.
A chart drawn from such a drop would be empty or, worse, show invented zeros ("Nobody is
waiting" when nobody sent a waiting list). So:

* ``missing(cur)`` names the drop's gaps (keys of ``NOTES``);
* ``page_notes(cur, title)`` (or ``notes_for(title, gaps)``) returns the sentences a page leads
  with (``ui.render.start_page`` shows them): "No delivery file in this drop: hours delivered ... can't be shown.";
* ``explain(spec, gaps)`` turns a chart that needs a missing source into one that says so
  instead of drawing (``figure`` None; title and text "People waiting can't be shown: no
  requests file in this drop."): pages (``ui.render.show_chart``)
  and the briefing pack (``analytics.briefing.registry.build``) both call it.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb

from analytics.publish.charts import ChartSpec

NOTES: dict[str, str] = {
    "requests": (
        "No requests file in this drop: people and hours waiting, how long people have waited and how "
        "fast care is found can't be shown."
    ),
    "delivery": (
        "No delivery file in this drop: hours delivered, and how they compare with hours commissioned, can't be shown."
    ),
    "workforce": "No workforce file in this drop: filled posts, vacancies and staff turnover can't be shown.",
    "milestones": "No milestones file in this drop: the steps planned before each contract decision can't be shown.",
    "microenterprises": (
        "No microenterprise in this drop (no provider of type `microenterprise` in providers.csv): "
        "microenterprise figures can't be shown."
    ),
    "ruc": (
        "No rural-urban class in this drop (`ruc21` and `ruc11` are blank in every row of areas.csv): "
        "rural and urban areas can't be compared."
    ),
    "populations": (
        "No populations in this drop (`population_65_plus` is blank in every row of areas.csv): figures "
        "per 1,000 residents can't be shown."
    ),
}
"""The sentence for each gap: what is missing, then what cannot be shown."""

REASONS: dict[str, str] = {
    "requests": "no requests file in this drop",
    "delivery": "no delivery file in this drop",
    "workforce": "no workforce file in this drop",
    "milestones": "no milestones file in this drop",
    "microenterprises": "no microenterprise in this drop",
    "ruc": "no area in this drop has a rural-urban class (RUC)",
    "populations": "no area in this drop has a population",
}
"""The short reason for each gap, as a chart that cannot be drawn gives it."""

PAGE_NEEDS: dict[str, tuple[str, ...]] = {
    "Overview": ("requests", "workforce"),
    "Map and coverage": ("populations", "requests"),
    "Waiting and sourcing": ("requests",),
    "Rural gaps": ("ruc", "requests"),
    "Microenterprises": ("microenterprises",),
    "Workforce and fees": ("workforce",),
    "Quality and market dynamics": ("delivery",),
    "Contracts and decisions": ("milestones",),
}
"""The gaps each page (by title) names at its top."""

CHART_NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("coverage-map-people-waiting", ("requests",)),
    ("coverage-map-hours-waiting", ("requests",)),
    ("coverage-map-hours-per-1000", ("populations",)),
    ("coverage-map-me-customers", ("microenterprises",)),
    ("overview-people-waiting", ("requests",)),
    ("waiting-", ("requests",)),
    ("rural-waiting-gap", ("ruc", "requests")),
    ("rural-waits", ("ruc", "requests")),
    ("rural-ruc21-waits", ("ruc", "requests")),
    ("rural-", ("ruc",)),
    ("delivery-", ("delivery",)),
    ("workforce-", ("workforce",)),
    ("me-programme-", ()),
    ("me-", ("microenterprises",)),
)
"""Chart spec ids (exact, or a prefix ending in ``-``) and the sources they are drawn from; first match wins."""


def missing(cur: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Return the live drop's gaps, keys of ``NOTES`` (in ``NOTES`` order)."""
    # One query (each costs about a millisecond, and every page's first load asks): the files
    # loaded, areas with a rural-urban class and a population, microenterprises.
    files, ruc, pop, me = cur.sql(
        """
        select (select list(file) from meta_files),
               (select count(ruc21) + count(ruc11) from stg_areas),
               (select count(population_65_plus) from stg_areas),
               (select count(*) from stg_providers where provider_type = 'microenterprise')
        """
    ).fetchall()[0]
    files = set(files or ())
    gaps = {name for name in ("requests", "delivery", "workforce") if name not in files}
    if "contracts" in files and "milestones" not in files:
        gaps.add("milestones")  # without contracts the Contracts page says so itself
    if not ruc:
        gaps.add("ruc")
    if not pop:
        gaps.add("populations")
    if not me:
        gaps.add("microenterprises")
    return tuple(key for key in NOTES if key in gaps)


def page_notes(cur: duckdb.DuckDBPyConnection, title: str) -> list[str]:
    """Return the sentences page ``title`` leads with: each gap of the drop it would otherwise hide."""
    return notes_for(title, missing(cur))


def notes_for(title: str, gaps: tuple[str, ...]) -> list[str]:
    """Return ``page_notes`` from the drop's ``gaps`` (``missing``), already read (pages cache them once)."""
    return [NOTES[key] for key in PAGE_NEEDS.get(title, ()) if key in gaps]


def needs(spec_id: str) -> tuple[str, ...]:
    """Return the sources chart ``spec_id`` is drawn from (``CHART_NEEDS``; none listed: nothing optional)."""
    for key, sources in CHART_NEEDS:
        if spec_id == key or (key.endswith("-") and spec_id.startswith(key)):
            return sources
    return ()


def explain(spec: ChartSpec, gaps: tuple[str, ...], chart_id: str | None = None) -> ChartSpec:
    """Return ``spec`` unchanged, or, when it needs a source in ``gaps``, a spec that says so and draws nothing.

    ``chart_id`` is the chart registry's id when it names a variant of the spec (the coverage map's measure).
    """
    lacking = [key for key in (*needs(spec.id), *needs(chart_id or "")) if key in gaps]
    if not lacking:
        return spec
    measure = spec.subtitle.split(",")[0].strip() or spec.title
    text = f"{measure} can't be shown: {REASONS[lacking[0]]}."
    return replace(spec, title=text, figure=None, data=None, alt_text=text)
