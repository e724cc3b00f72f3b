"""The Painel's chart geometry (dashboard/charts.py), computed by hand.

The plot area is fixed: 640 × 240 with margins 76 / 24 / 14 / 30, so x runs from 76 to 616 and y from 210
(zero) up to 14 (the top tick), 196 units tall."""

from django.utils import translation

from dashboard.charts import (
    axis_ticks,
    bar_chart,
    coord,
    count_label,
    line_chart,
    money_label,
    share_widths,
)


def test_a_coordinate_has_one_decimal_rounded_half_up_and_a_dot_in_every_language():
    with translation.override("pt-br"):
        assert coord(5) == "5.0"
        assert coord(12.25) == "12.3"
        assert coord(1 / 3) == "0.3"
    with translation.override("en"):
        assert coord(12.25) == "12.3"


def test_ticks_are_round_steps_whose_last_reaches_the_maximum():
    assert axis_ticks(100) == [0, 50, 100, 150, 200]  # 100 / 4 = 25 → step 50
    assert axis_ticks(7) == [0, 2, 4, 6, 8]  # 1.75 → step 2
    assert axis_ticks(4000) == [0, 1000, 2000, 3000, 4000]  # exactly 1,000 a step
    assert axis_ticks(4001) == [0, 2000, 4000, 6000, 8000]  # just over: the next round step
    assert axis_ticks(3999) == [0, 1000, 2000, 3000, 4000]
    assert axis_ticks(1) == [0, 1, 2, 3, 4]  # below one a step: steps of 1 (counts are whole)
    assert axis_ticks(10, ticks=5) == [0, 2, 4, 6, 8, 10]


def test_nothing_to_draw_still_has_an_axis():
    assert axis_ticks(0) == [0, 1, 2, 3, 4]
    assert axis_ticks(-50) == [0, 1, 2, 3, 4]


def test_labels_follow_the_language():
    with translation.override("pt-br"):
        assert count_label(1234567) == "1.234.567"
        assert money_label("BRL")(1_500_000) == "R$\xa015\xa0mil"
    with translation.override("en"):
        assert count_label(1234567) == "1,234,567"
        assert money_label("BRL")(1_500_000) == "R$15K"


def test_a_line_chart_places_each_point_and_closes_the_area_on_the_axis():
    chart = line_chart([("jan", 0, "0"), ("fev", 50, "50"), ("mar", 100, "100")], label=str)
    # Max 100 → ticks 0…200: a value v sits at 210 − v × 196 / 200; three points 270 apart.
    assert [(p["x"], p["y"], p["label"], p["value"]) for p in chart["points"]] == [
        ("76.0", "210.0", "jan", 0),
        ("346.0", "161.0", "fev", 50),
        ("616.0", "112.0", "mar", 100),
    ]
    assert chart["polyline"] == "76.0,210.0 346.0,161.0 616.0,112.0"
    assert chart["area"] == "M76.0,210 L76.0,210.0 L346.0,161.0 L616.0,112.0 L616.0,210 Z"
    assert chart["grid"] == [
        {"y": "210.0", "label": "0"},
        {"y": "161.0", "label": "50"},
        {"y": "112.0", "label": "100"},
        {"y": "63.0", "label": "150"},
        {"y": "14.0", "label": "200"},
    ]
    assert (chart["left"], chart["right"], chart["top"], chart["bottom"]) == (76, 616, 14, 210)


def test_a_line_chart_draws_a_negative_value_on_the_zero_line_and_a_single_point_at_the_left():
    chart = line_chart([("jan", -500, "−5")], label=str)
    assert [(p["x"], p["y"], p["value"], p["text"]) for p in chart["points"]] == [
        ("76.0", "210.0", -500, "−5")
    ]
    assert [row["label"] for row in chart["grid"]] == ["0", "1", "2", "3", "4"]


def test_an_empty_line_chart_has_no_line_and_no_area():
    chart = line_chart([], label=str)
    assert (chart["points"], chart["polyline"], chart["area"]) == ([], "", "")
    assert len(chart["grid"]) == 5


def test_grouped_bars_share_each_slot():
    chart = bar_chart([("jan", [(10, "10"), (20, "20")]), ("fev", [(40, "40"), (0, "0")])], label=str)
    # Max 40 → ticks 0…40; two slots of 270, bars of 270 × 0.7 / 2 = 94.5 starting 40.5 into the slot.
    assert [row["label"] for row in chart["grid"]] == ["0", "10", "20", "30", "40"]
    jan, fev = chart["groups"]
    assert (jan["label"], jan["x"], fev["label"], fev["x"]) == ("jan", "211.0", "fev", "481.0")
    assert [(b["x"], b["y"], b["width"], b["height"], b["series"]) for b in jan["bars"]] == [
        ("116.5", "161.0", "94.5", "49.0", 0),
        ("211.0", "112.0", "94.5", "98.0", 1),
    ]
    assert [(b["x"], b["y"], b["height"], b["value"], b["text"]) for b in fev["bars"]] == [
        ("386.5", "14.0", "196.0", 40, "40"),
        ("481.0", "210.0", "0.0", 0, "0"),
    ]


def test_bars_without_groups_or_values_still_draw_an_axis():
    chart = bar_chart([], label=str)
    assert chart["groups"] == []
    assert [row["y"] for row in chart["grid"]] == ["210.0", "161.0", "112.0", "63.0", "14.0"]
    negative = bar_chart([("jan", [(-30, "−30")])], label=str)
    assert negative["groups"][0]["bars"][0]["height"] == "0.0"


def test_share_widths_are_percent_of_the_largest():
    assert share_widths([50, 100, 0, -5]) == ["50.0", "100.0", "0.0", "0.0"]
    assert share_widths([1, 3]) == ["33.3", "100.0"]
    assert share_widths([0, 0]) == ["0.0", "0.0"]
    assert share_widths([]) == []
