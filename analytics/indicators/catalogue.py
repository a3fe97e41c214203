"""The indicator catalogue: every indicator's definition, formula, unit and thresholds, held as data.

One TOML file per domain group in ``analytics/indicators/catalogue/*.toml``, each a list of ``[[indicator]]``
tables with the keys in ``REQUIRED_KEYS`` (plus optional ``headline_key`` and ``rag``). This module
loads and validates them (unique ids and headline keys across files, known domains, RAG keys that
exist in ``config.toml [thresholds]``), resolves the thresholds, gives a RAG status for a value, and
renders ``docs/indicators.md`` (``python -m analytics.indicators.catalogue``). Every ``source`` names
a public publication in short ("<publisher>, <publication>") or says "Local choice:" and why;
``analytics/indicators/sources.toml`` holds the full citations, listed once at the end of the document.

RAG rule (strict comparisons, so a threshold of 0 means "anything above 0"):
``higher_is_worse``: red if value > red, amber if value > amber, else green;
``lower_is_worse``: red if value < red, amber if value < amber, else green.
Either level may be omitted; a value of ``None`` has no status.

``good_direction`` (``up``, ``down`` or ``none``) says which way a change is good: a tile colours
its change green when it moves that way, red when it moves the other, grey for ``none`` or no
change. With a ``rag`` it must agree (``higher_is_worse`` is ``down``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from analytics.config import PROJECT_ROOT, settings

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
SOURCES_PATH = Path(__file__).resolve().parent / "sources.toml"
SOURCE_KEYS = ("id", "short", "publisher", "title", "year", "url")
LOCAL_CHOICE = "Local choice"
DOCS_PATH = PROJECT_ROOT / "docs" / "indicators.md"

DOMAINS = (
    "Supply",
    "Microenterprises",
    "Coverage",
    "Waiting",
    "Rural gap",
    "Concentration",
    "Churn",
    "Quality",
    "Price",
    "Workforce",
    "Delivery",
    "Provider exit",
    "Demand",
    "Contracts",
    "Lots",
    "Early warning",
)
REQUIRED_KEYS = (
    "id",
    "title",
    "domain",
    "definition",
    "formula",
    "unit",
    "grain",
    "source",
    "caveats",
    "counts_people",
    "good_direction",
)
OPTIONAL_KEYS = ("headline_key", "rag")
RAG_KEYS = ("amber", "red", "direction")
DIRECTIONS = ("higher_is_worse", "lower_is_worse")
# Which way a change is good: colours the change on a tile (green good, red bad, grey for "none").
GOOD_DIRECTIONS = ("up", "down", "none")
GOOD_FOR_RAG = {"higher_is_worse": "down", "lower_is_worse": "up"}
ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

Status = Literal["red", "amber", "green"]


class CatalogueError(ValueError):
    """A catalogue file breaks a rule (message names the file and the indicator)."""


@dataclass(frozen=True)
class Source:
    """One public publication cited by the catalogue or ``config.toml`` (``sources.toml``).

    ``short`` is the "<publisher>, <publication>" form written in a catalogue ``source``;
    ``title``, ``year`` and ``url`` (either may be blank) give the full citation.
    """

    id: str
    short: str
    publisher: str
    title: str
    year: str
    url: str

    def citation(self) -> str:
        """Return the full citation as one Markdown line: title, year and link."""
        text = self.title + (f" ({self.year})" if self.year else "")
        return text + (f". <{self.url}>" if self.url else ".")


@cache
def load_sources(path: Path = SOURCES_PATH) -> dict[str, Source]:
    """Return the ``[[source]]`` tables of ``sources.toml`` by id.

    Each needs every key of ``SOURCE_KEYS`` as text (``year`` and ``url`` may be blank), a unique
    id, and a ``short`` form that names its ``publisher``; raises ``CatalogueError`` otherwise.
    """
    with Path(path).open("rb") as fh:
        entries = tomllib.load(fh).get("source", [])
    out: dict[str, Source] = {}
    for raw in entries:
        where = f"{Path(path).name}: source {raw.get('id', '?')!r}"
        if set(raw) != set(SOURCE_KEYS) or not all(isinstance(raw[k], str) for k in SOURCE_KEYS):
            raise CatalogueError(f"{where}: needs exactly the text keys {SOURCE_KEYS}")
        if raw["id"] in out:
            raise CatalogueError(f"{where}: id already defined")
        if not raw["short"].startswith(raw["publisher"] + ", "):
            raise CatalogueError(f"{where}: short must start with the publisher and a comma")
        out[raw["id"]] = Source(**{k: raw[k].strip() for k in SOURCE_KEYS})
    return out


@dataclass(frozen=True)
class Rag:
    """RAG thresholds of one indicator: config keys, their resolved values and the direction."""

    direction: Literal["higher_is_worse", "lower_is_worse"]
    amber_key: str | None = None
    red_key: str | None = None
    amber: float | None = None
    red: float | None = None

    def status(self, value: float | None) -> Status | None:
        """Return ``red``/``amber``/``green`` for ``value`` (``None`` for no value)."""
        if value is None:
            return None
        worse = (lambda v, t: v > t) if self.direction == "higher_is_worse" else (lambda v, t: v < t)
        if self.red is not None and worse(value, self.red):
            return "red"
        if self.amber is not None and worse(value, self.amber):
            return "amber"
        return "green"

    def describe(self) -> str:
        """Return the thresholds in words, e.g. ``amber above 14; red above 28 (config: ...)``."""
        word = "above" if self.direction == "higher_is_worse" else "below"
        parts = []
        if self.amber is not None:
            parts.append(f"amber {word} {_num(self.amber)} (`thresholds.{self.amber_key}`)")
        if self.red is not None:
            parts.append(f"red {word} {_num(self.red)} (`thresholds.{self.red_key}`)")
        return "; ".join(parts)


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry (see the module docstring for the file format)."""

    id: str
    title: str
    domain: str
    definition: str
    formula: str
    unit: str
    grain: str
    source: str
    caveats: str
    counts_people: bool
    good_direction: Literal["up", "down", "none"] = "none"
    headline_key: str | None = None
    rag: Rag | None = None
    file: str = ""


def _num(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _parse_rag(raw: object, where: str, thresholds: dict) -> Rag:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: rag must be a table")
    unknown = set(raw) - set(RAG_KEYS)
    if unknown:
        raise CatalogueError(f"{where}: unknown rag keys {sorted(unknown)}")
    direction = raw.get("direction")
    if direction not in DIRECTIONS:
        raise CatalogueError(f"{where}: rag.direction must be one of {DIRECTIONS}, not {direction!r}")
    values: dict[str, float | None] = {}
    for level in ("amber", "red"):
        key = raw.get(level)
        if key is None:
            values[level] = None
            continue
        if key not in thresholds:
            raise CatalogueError(f"{where}: rag.{level} = {key!r} is not a key of config.toml [thresholds]")
        values[level] = float(thresholds[key])
    if values["amber"] is None and values["red"] is None:
        raise CatalogueError(f"{where}: rag needs amber, red or both")
    return Rag(direction, raw.get("amber"), raw.get("red"), values["amber"], values["red"])


def _parse_entry(raw: dict, file: str, thresholds: dict) -> Indicator:
    where = f"{file}: indicator {raw.get('id', '?')!r}"
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise CatalogueError(f"{where}: missing keys {missing}")
    unknown = set(raw) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(raw["id"], str) or not ID_PATTERN.match(raw["id"]):
        raise CatalogueError(f"{where}: id must be snake_case")
    for key in REQUIRED_KEYS:
        if key not in ("counts_people", "good_direction") and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise CatalogueError(f"{where}: {key} must be non-empty text")
    if not isinstance(raw["counts_people"], bool):
        raise CatalogueError(f"{where}: counts_people must be true or false")
    if raw["good_direction"] not in GOOD_DIRECTIONS:
        raise CatalogueError(f"{where}: good_direction must be one of {GOOD_DIRECTIONS}, not {raw['good_direction']!r}")
    if raw["domain"] not in DOMAINS:
        raise CatalogueError(f"{where}: domain {raw['domain']!r} is not one of {DOMAINS}")
    headline_key = raw.get("headline_key")
    if headline_key is not None and (not isinstance(headline_key, str) or not ID_PATTERN.match(headline_key)):
        raise CatalogueError(f"{where}: headline_key must be snake_case")
    rag = _parse_rag(raw["rag"], where, thresholds) if "rag" in raw else None
    if rag is not None and raw["good_direction"] != GOOD_FOR_RAG[rag.direction]:
        raise CatalogueError(
            f"{where}: good_direction {raw['good_direction']!r} contradicts rag.direction {rag.direction!r} "
            f"(needs {GOOD_FOR_RAG[rag.direction]!r})"
        )
    return Indicator(
        **{k: raw[k].strip() if isinstance(raw[k], str) else raw[k] for k in REQUIRED_KEYS},
        headline_key=headline_key,
        rag=rag,
        file=file,
    )


@cache
def load_catalogue(directory: Path | None = None) -> dict[str, Indicator]:
    """Return every indicator of ``directory/*.toml`` (default ``analytics/catalogue``) by id.

    Validates required keys, snake_case ids, known domains, unique ids and headline keys across
    files, and RAG keys present in ``config.toml [thresholds]`` (resolved to numbers). Cached; raises
    ``CatalogueError`` naming the file and indicator on the first problem.
    """
    directory = CATALOGUE_DIR if directory is None else Path(directory)
    thresholds = settings().get("thresholds", {})
    out: dict[str, Indicator] = {}
    headline_owner: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            try:
                data = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise CatalogueError(f"{path.name}: not valid TOML ({exc})") from exc
        entries = data.get("indicator", [])
        if not isinstance(entries, list):
            raise CatalogueError(f"{path.name}: use [[indicator]] tables")
        for raw in entries:
            item = _parse_entry(raw, path.name, thresholds)
            if item.id in out:
                raise CatalogueError(f"{path.name}: id {item.id!r} already defined in {out[item.id].file}")
            if item.headline_key is not None:
                if item.headline_key in headline_owner:
                    first = headline_owner[item.headline_key]
                    raise CatalogueError(f"{path.name}: headline_key {item.headline_key!r} already used by {first!r}")
                headline_owner[item.headline_key] = item.id
            out[item.id] = item
    return out


def indicator(indicator_id: str) -> Indicator:
    """Return the catalogue entry ``indicator_id`` (``KeyError`` if there is none)."""
    return load_catalogue()[indicator_id]


def by_headline_key() -> dict[str, Indicator]:
    """Return the catalogue entries that have a ``headline_key``, keyed by it."""
    return {i.headline_key: i for i in load_catalogue().values() if i.headline_key is not None}


def rag_status(indicator_id: str, value: float | None) -> Status | None:
    """Return the RAG status of ``value`` for ``indicator_id``; ``None`` if no value or no thresholds."""
    rag = indicator(indicator_id).rag
    return None if rag is None else rag.status(value)


def render_indicators_markdown(catalogue: dict[str, Indicator] | None = None) -> str:
    """Return the Markdown body of ``docs/indicators.md``: every indicator grouped by domain."""
    catalogue = load_catalogue() if catalogue is None else catalogue
    lines = [
        "# Indicators",
        "",
        "Generated from `analytics/indicators/catalogue/*.toml` by",
        "`python -m analytics.indicators.catalogue`; edit the catalogue, not this file. Thresholds come",
        "from `config.toml [thresholds]`. Percentages are 0 to 100. A measure with no data is shown as",
        "blank, never as 0.",
        "",
    ]
    for domain in DOMAINS:
        items = sorted((i for i in catalogue.values() if i.domain == domain), key=lambda i: i.id)
        if not items:
            continue
        lines += [f"## {domain}", ""]
        for item in items:
            lines += [
                f"### {item.title}",
                "",
                f"`{item.id}`" + (f" (headline: `{item.headline_key}`)" if item.headline_key else ""),
                "",
            ]
            rows = [
                ("Definition", item.definition),
                ("Formula", item.formula),
                ("Unit", item.unit),
                ("Good direction", GOOD_WORDS[item.good_direction]),
                ("Grain", item.grain),
                ("Source", item.source),
                ("Caveats", item.caveats),
                ("Small-number suppression", "yes (counts people)" if item.counts_people else "no"),
                ("Thresholds", item.rag.describe() if item.rag else "none"),
            ]
            lines += ["| | |", "|---|---|"]
            lines += [f"| {label} | {_cell(text)} |" for label, text in rows]
            lines.append("")
    lines += _sources_lines()
    return "\n".join(lines).rstrip() + "\n"


GOOD_WORDS = {
    "up": "up (a rise is shown green on a tile, a fall red)",
    "down": "down (a fall is shown green on a tile, a rise red)",
    "none": "neither (a change is shown grey: it is not good or bad in itself)",
}


def _sources_lines() -> list[str]:
    """Return the closing "Sources" section: every publication of ``sources.toml`` in full."""
    lines = [
        "## Sources",
        "",
        "Each source above names its publisher and publication in short; the full citations follow.",
        f'"{LOCAL_CHOICE}" marks a definition or threshold that is this dashboard\'s own judgement, not a',
        "national standard; thresholds can be changed in `config.toml [thresholds]`.",
        "",
    ]
    for source in sorted(load_sources().values(), key=lambda s: s.short.lower()):
        lines.append(f"- **{source.short}**: {source.citation()}")
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def write_docs(path: Path = DOCS_PATH) -> Path:
    """Write ``render_indicators_markdown()`` to ``path`` (default ``docs/indicators.md``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_indicators_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_docs()}")
