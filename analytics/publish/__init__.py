"""The way out: the house chart style and everything a published figure passes through.

``charts`` (chart specs in the Government Analysis Function style), ``suppression`` (small-number
suppression and rounding), ``publication`` (publication mode: a chart, table or sentence with
suppression applied) and ``exports`` (PNG, SVG, CSV and Excel downloads).
"""
