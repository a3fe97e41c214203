"""Number and date formatting for every page, chart, table and export (ONS house style).

One place decides how a number reads, so a figure looks the same on a page, in a chart label and in
the briefing pack: thousands separators always ("12,345"), months as "March 2025", dates as
"31 October 2026", ranges with "to". Missing values read ``[x]`` (GSS shorthand for "not available").

Every function takes ``None`` (and NaN) and returns ``MISSING``; none of them raises on a number.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

MISSING = "[x]"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | None, dp: int = 0) -> str:
    """Return ``value`` with thousands separators and ``dp`` decimal places: ``1234.5`` -> ``"1,234.5"``.

    A minus sign is kept ("-1,234"); ``-0`` after rounding reads ``"0"``.
    """
    if _missing(value):
        return MISSING
    text = f"{value:,.{dp}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def fmt_int(value: float | None) -> str:
    """Return a whole number with thousands separators: ``12345`` -> ``"12,345"``."""
    return fmt_number(value, 0)


def fmt_hours(value: float | None, dp: int = 1, *, unit: bool = True) -> str:
    """Return hours with ``dp`` decimals and the unit: ``1234.5`` -> ``"1,234.5 hours"``.

    ``unit=False`` leaves the unit off (for table cells whose heading says "hours").
    """
    if _missing(value):
        return MISSING
    text = fmt_number(value, dp)
    if not unit:
        return text
    return f"{text} hour" if text == "1" else f"{text} hours"


def fmt_pct(value: float | None, dp: int = 1) -> str:
    """Return a percentage given in percent (not a fraction): ``95.23`` -> ``"95.2%"``."""
    if _missing(value):
        return MISSING
    return f"{fmt_number(value, dp)}%"


def fmt_gbp(value: float | None, dp: int = 2) -> str:
    """Return pounds sterling: ``24.1`` -> ``"£24.10"``, ``-1500`` with ``dp=0`` -> ``"-£1,500"``."""
    if _missing(value):
        return MISSING
    text = fmt_number(abs(value), dp)
    negative = value < 0 and text.strip("0.,") != ""
    return f"-£{text}" if negative else f"£{text}"


def fmt_month(value: date | datetime | None) -> str:
    """Return the month and year: ``date(2025, 3, 1)`` -> ``"March 2025"``."""
    if value is None:
        return MISSING
    return f"{_MONTHS[value.month - 1]} {value.year}"


def fmt_date(value: date | datetime | None) -> str:
    """Return a full date without a leading zero: ``date(2026, 10, 31)`` -> ``"31 October 2026"``."""
    if value is None:
        return MISSING
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def fmt_month_range(start: date | datetime, end: date | datetime) -> str:
    """Return a month range with "to", naming the year once when both months share it.

    ``(2025-01, 2025-03)`` -> ``"January to March 2025"``;
    ``(2024-11, 2025-01)`` -> ``"November 2024 to January 2025"``; one month -> ``"March 2025"``.
    """
    if (start.year, start.month) == (end.year, end.month):
        return fmt_month(start)
    if start.year == end.year:
        return f"{_MONTHS[start.month - 1]} to {fmt_month(end)}"
    return f"{fmt_month(start)} to {fmt_month(end)}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>$~])")
_LINE_START = re.compile(r"^(\s*)([#+\->=]|\d+[.)])")
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def markdown_text(value: object) -> str:
    """Return ``value`` as text that Markdown (and Streamlit's extensions) shows literally.

    The characters that start Markdown or Streamlit constructs (links and images ``[..](..)``,
    emphasis ``*``/``_``, code, ``<autolinks>``, LaTeX ``$``, colours ``:red[...]``, strikethrough)
    are backslash-escaped, which CommonMark defines as "show this character"; so are bare
    ``https://`` and ``www.`` links and a heading, list or quote marker at the start. A locality
    called ``[Click](https://x)`` or ``**Fells**`` reads exactly like that. Ordinary punctuation
    (full stops, brackets, hyphens) is left alone. ``None`` reads ``MISSING``. Use it wherever data
    (names, sentences built from names) is written with ``st.markdown``, ``st.caption``,
    ``st.info`` or a metric label.
    """
    if value is None:
        return MISSING
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", str(value).replace("\n", " "))
    text = _AUTOLINK.sub(lambda m: m.group(1).replace(":", "\\:").replace(".", "\\."), text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
