"""Geometry for the Painel's server-side SVG charts: coordinates and labels, computed here and drawn by
templates/dashboard/_chart_*.html. No JavaScript, nothing from a CDN.

Coordinates are exact fractions rounded to one decimal for the SVG text; amounts stay integers.
"""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from babel.numbers import format_compact_currency
from django.utils import formats

from core.money import babel_locale, to_major

WIDTH, HEIGHT = 640, 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 76, 24, 14, 30
TICKS = 4


def coord(value) -> str:
    """An SVG coordinate with one decimal ("12.5"), whatever the page's language."""
    value = Fraction(value)
    return str(
        (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    )


def axis_ticks(maximum: int, ticks: int = TICKS) -> list[int]:
    """0 and `ticks` round steps (1, 2 or 5 × 10ⁿ) whose last one is at least `maximum`."""
    if maximum <= 0:
        return list(range(ticks + 1))
    raw = Fraction(maximum, ticks)
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [step * index for index in range(ticks + 1)]


def count_label(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def money_label(currency: str):
    """Axis labels for amounts in minor units: compact ("R$ 15 mil")."""

    def label(minor: int) -> str:
        return format_compact_currency(
            to_major(minor, currency), currency, locale=babel_locale(), fraction_digits=1
        )

    return label


def _plot(width=WIDTH, height=HEIGHT):
    return {
        "width": width,
        "height": height,
        "left": MARGIN_LEFT,
        "right": width - MARGIN_RIGHT,
        "top": MARGIN_TOP,
        "bottom": height - MARGIN_BOTTOM,
    }


def _grid(plot, ticks, label):
    top = ticks[-1]
    height = plot["bottom"] - plot["top"]
    return [
        {"y": coord(plot["bottom"] - Fraction(tick * height, top)), "label": label(tick)} for tick in ticks
    ]


def _y(plot, value, top):
    return plot["bottom"] - Fraction(value * (plot["bottom"] - plot["top"]), top)


def line_chart(points: list[tuple[str, int, str]], *, label) -> dict:
    """A line over `points` = [(x label, value, value text)], with a light area under it."""
    plot = _plot()
    ticks = axis_ticks(max((value for _l, value, _t in points), default=0))
    top = ticks[-1]
    count = len(points)
    step = Fraction(plot["right"] - plot["left"], max(count - 1, 1))
    drawn = []
    for index, (x_label, value, text) in enumerate(points):
        x, y = plot["left"] + step * index, _y(plot, max(value, 0), top)
        drawn.append({"x": coord(x), "y": coord(y), "label": x_label, "value": value, "text": text})
    polyline = " ".join(f"{p['x']},{p['y']}" for p in drawn)
    area = ""
    if drawn:
        bottom = plot["bottom"]
        area = f"M{drawn[0]['x']},{bottom} L{polyline.replace(' ', ' L')} L{drawn[-1]['x']},{bottom} Z"
    return {**plot, "grid": _grid(plot, ticks, label), "points": drawn, "polyline": polyline, "area": area}


def bar_chart(groups: list[tuple[str, list[tuple[int, str]]]], *, label) -> dict:
    """Grouped vertical bars: `groups` = [(x label, [(value, text) per series])]."""
    plot = _plot()
    series = max((len(values) for _l, values in groups), default=1)
    ticks = axis_ticks(max((value for _l, values in groups for value, _t in values), default=0))
    top = ticks[-1]
    slot = Fraction(plot["right"] - plot["left"], max(len(groups), 1))
    bar_width = slot * Fraction(7, 10) / series
    drawn = []
    for index, (x_label, values) in enumerate(groups):
        left = plot["left"] + slot * index + slot * Fraction(3, 20)
        bars = []
        for position, (value, text) in enumerate(values):
            y = _y(plot, max(value, 0), top)
            bars.append(
                {
                    "x": coord(left + bar_width * position),
                    "y": coord(y),
                    "width": coord(bar_width),
                    "height": coord(plot["bottom"] - y),
                    "series": position,
                    "value": value,
                    "text": text,
                }
            )
        drawn.append({"label": x_label, "x": coord(plot["left"] + slot * index + slot / 2), "bars": bars})
    return {**plot, "grid": _grid(plot, ticks, label), "groups": drawn}


def share_widths(values: list[int]) -> list[str]:
    """Bar widths in percent of the largest value, for horizontal bars ("0.0" when all are zero)."""
    largest = max(values, default=0)
    if largest <= 0:
        return ["0.0" for _value in values]
    return [coord(Fraction(max(value, 0) * 100, largest)) for value in values]
