"""The dashboard's SVG charts, without a browser: structure, numbers, empty data, escaping."""

import xml.etree.ElementTree as ET

import pytest

from leadflow.web import charts

NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(markup) -> ET.Element:
    """The chart parsed as XML (it must be well-formed to be inline SVG in HTML and in print)."""
    root = ET.fromstring(str(markup))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    labelled = root.get("aria-labelledby").split()
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert set(labelled) <= ids  # the <title> and <desc> it points at exist
    assert root.find("s:title", NS).text and root.find("s:desc", NS).text
    return root


def _bars(root: ET.Element, cls: str = "chart-bar") -> list[ET.Element]:
    return [el for el in root.iter("{http://www.w3.org/2000/svg}rect") if cls in (el.get("class") or "").split()]


def _texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


def _tips(root: ET.Element) -> list[str]:
    return [el.text for el in root.iter("{http://www.w3.org/2000/svg}title")][1:]  # after the chart's own


def _no_inline_colour(markup) -> None:
    text = str(markup)
    assert "fill=" not in text and "stroke=" not in text and "style=" not in text and "#" not in text


# ---- scales and numbers ----------------------------------------------------------------------

@pytest.mark.parametrize(("top", "step", "axis"), [(9, 3, 9), (10, 3, 12), (97, 25, 100), (1234, 500, 1500),
                                                    (0, 1, 4), (1, 1, 1)])
def test_nice_scale_gives_round_steps(top, step, axis):
    assert charts.nice_scale(top) == (step, axis)


def test_fractions_get_fractional_steps():
    assert charts.nice_scale(0.23, integer=False) == (0.1, 0.3)
    assert charts.nice_scale(0.19, integer=False) == (0.05, 0.2)


@pytest.mark.parametrize(("n", "text"), [(950, "950"), (1200, "1.2k"), (34_000, "34k"), (1_500_000, "1.5M"),
                                        (2.5, "2.5"), (0, "0")])
def test_short_axis_numbers(n, text):
    assert charts.fmt_short(n) == text


def test_period_labels():
    assert charts.period_label("2026-01-01", "month") == "Jan 2026"
    assert charts.period_label("2026-01-05", "week") == "5 Jan"
    assert charts.period_label("2026-01-05", "week", long=True) == "Week of 5 Jan 2026"
    assert charts.period_label("2026-01-05", "day", long=True) == "Mon 5 Jan 2026"


# ---- stacked bars ----------------------------------------------------------------------------

def _rows():
    """Three months; paid search grows, email stays, one lead without a channel."""
    return [
        {"period": "2026-01-01", "group": "paid_search", "leads": 10},
        {"period": "2026-01-01", "group": "email", "leads": 10},
        {"period": "2026-02-01", "group": "paid_search", "leads": 30},
        {"period": "2026-02-01", "group": None, "leads": 1},
        {"period": "2026-03-01", "group": "paid_search", "leads": 50},
        {"period": "2026-03-01", "group": "email", "leads": 10},
    ]


def test_stacked_bars_heights_are_proportional_to_the_values():
    root = _svg(charts.stacked_bar_chart(_rows(), chart_id="t", title="Leads", period="month",
                                         group_label=lambda g: {"paid_search": "Paid search"}.get(g, g or "Unknown")))
    cols = root.findall(".//s:g[@class='chart-col']", NS)
    assert [c.get("data-period") for c in cols] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert [float(c.get("data-total")) for c in cols] == [20, 31, 60]
    heights = {(c.get("data-period"), r.get("data-value")): float(r.get("height"))
               for c in cols for r in _bars(c)}
    unit = heights[("2026-03-01", "50")] / 50
    for (_, value), h in heights.items():
        assert h == pytest.approx(float(value) * unit, abs=0.11)
    # Largest group first in the legend and at the bottom of each stack (the lowest bar is drawn first).
    legend = _texts(root.find(".//s:g[@class='chart-legend']", NS))
    assert legend == ["Paid search", "email", "Unknown"]
    first = _bars(cols[0])
    assert first[0].get("class") == "chart-bar chart-s1" and float(first[0].get("y")) > float(first[1].get("y"))
    assert "Jan 2026" in _texts(root) and "60" in _texts(root)  # axis label, column total
    assert "March 2026 · Paid search: 50 leads (83 %)" in [t.replace("\u00a0", " ") for t in _tips(root)]


def test_missing_periods_are_drawn_empty():
    rows = [{"period": "2026-01-01", "group": "a", "leads": 3}, {"period": "2026-04-01", "group": "a", "leads": 1}]
    root = _svg(charts.stacked_bar_chart(rows, chart_id="t", title="x", period="month"))
    cols = root.findall(".//s:g[@class='chart-col']", NS)
    assert [c.get("data-period") for c in cols] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert "no leads" in " ".join(_tips(root))
    weekly = [{"period": "2026-01-05", "group": "a", "leads": 1}, {"period": "2026-01-19", "group": "a", "leads": 1}]
    root = _svg(charts.stacked_bar_chart(weekly, chart_id="t", title="x", period="week"))
    assert len(root.findall(".//s:g[@class='chart-col']", NS)) == 3


def test_beyond_six_groups_the_smallest_fold_into_others():
    rows = [{"period": "2026-01-01", "group": f"g{i}", "leads": 100 - i} for i in range(9)]
    root = _svg(charts.stacked_bar_chart(rows, chart_id="t", title="x"))
    legend = _texts(root.find(".//s:g[@class='chart-legend']", NS))
    assert legend == ["g0", "g1", "g2", "g3", "g4", "g5", "3 others"]
    others = [b for b in _bars(root) if "chart-s7" in b.get("class")]
    assert len(others) == 1 and others[0].get("data-value") == "279"  # g6 + g7 + g8: 94 + 93 + 92
    # Seven groups fit: no "others".
    root = _svg(charts.stacked_bar_chart(rows[:7], chart_id="t", title="x"))
    assert "others" not in " ".join(_texts(root))


def test_names_are_escaped():
    evil = '<script>alert("x")</script>'
    markup = charts.stacked_bar_chart([{"period": "2026-01-01", "group": evil, "leads": 1}], chart_id="t",
                                      title='Leads & "friends"')
    assert "<script>" not in str(markup) and "&lt;script&gt;" in str(markup)
    root = _svg(markup)
    assert root.find("s:title", NS).text == 'Leads & "friends"'
    assert evil in _texts(root)
    for chart in (charts.hbar_chart([{"label": evil, "value": 1.0}], chart_id="h", title="x", desc_unit="y"),
                  charts.rate_chart([{"key": evil, "label": evil, "leads": 1, "customers": 1, "rate": 1.0}],
                                    chart_id="r", title="x"),
                  charts.funnel_chart([{"stage": evil, "reached": 1}], chart_id="f", title="x")):
        assert "<script>" not in str(chart)
        _svg(chart)


def test_colours_come_from_the_stylesheet():
    for markup in (charts.stacked_bar_chart(_rows(), chart_id="t", title="x"),
                   charts.histogram_chart([{"lower_days": 0, "upper_days": 7, "customers": 3}], chart_id="h",
                                          title="x", median=2, p90=6),
                   charts.empty_chart("e", "x", "nothing")):
        _no_inline_colour(markup)


@pytest.mark.parametrize("rows", [[], [{"period": "2026-01-01", "group": "a", "leads": 0}]])
def test_no_data_is_said_in_words(rows):
    root = _svg(charts.stacked_bar_chart(rows, chart_id="t", title="Leads over time"))
    assert "chart-is-empty" in root.get("class")
    assert _texts(root) == ["No data", "No leads in this range."]
    assert root.find("s:desc", NS).text == "No leads in this range."


# ---- funnel ----------------------------------------------------------------------------------

def _steps():
    return [{"stage": "prospect", "reached": 200, "rate_from_previous": None, "rate_from_start": 1.0},
            {"stage": "mql", "reached": 100, "rate_from_previous": 0.5, "rate_from_start": 0.5},
            {"stage": "customer", "reached": 10, "rate_from_previous": 0.1, "rate_from_start": 0.05}]


def test_funnel_widths_follow_the_counts_and_the_step_rates_are_written():
    root = _svg(charts.funnel_chart(_steps(), chart_id="f", title="Funnel", stage_label=str.upper))
    bars = _bars(root)
    widths = [float(b.get("width")) for b in bars]
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.5) and widths[2] == pytest.approx(widths[0] / 20, abs=0.5)
    assert [b.get("class").split()[-1] for b in bars] == ["chart-stage-prospect", "chart-stage-mql", "chart-stage-customer"]
    texts = [t.replace("\u00a0", " ") for t in _texts(root)]
    assert {"PROSPECT", "MQL", "CUSTOMER", "200", "100", "10", "↓ 50 %", "↓ 10 %", "5 %"} <= set(texts)
    assert "CUSTOMER: 10 leads, 10 % of the previous step, 5 % of all" in [t.replace("\u00a0", " ") for t in _tips(root)]


def test_an_empty_funnel_says_so():
    root = _svg(charts.funnel_chart([{"stage": "prospect", "reached": 0}], chart_id="f", title="Funnel"))
    assert "No data" in _texts(root)


# ---- horizontal bars -------------------------------------------------------------------------

def test_hbars_are_proportional_and_a_missing_value_is_named():
    items = [{"label": "Expo Madrid 2026 with a very long campaign name", "value": 400.0, "note": "4,000.00 spent"},
             {"label": "Search", "value": 100.0}, {"label": "Newsletter", "value": None}]
    root = _svg(charts.hbar_chart(items, chart_id="h", title="Cost per lead", desc_unit="Cost per lead"))
    widths = [float(b.get("width")) for b in _bars(root)]
    assert len(widths) == 2 and widths[0] == pytest.approx(4 * widths[1], abs=0.5)
    texts = _texts(root)
    assert "400.00" in texts and "no leads" in texts and "Expo Madrid 2026 with a very long campaign name" in texts
    assert "Expo Madrid 2026 with a very long campaign name: 400.00 (4,000.00 spent)" in _tips(root)


def test_hbars_show_the_first_items_and_count_the_rest():
    items = [{"label": f"c{i}", "value": float(20 - i)} for i in range(14)]
    root = _svg(charts.hbar_chart(items, chart_id="h", title="x", desc_unit="y", max_items=10))
    assert len(_bars(root)) == 10 and "and 4 more in the table" in _texts(root)


# ---- histogram -------------------------------------------------------------------------------

def test_histogram_heights_and_markers():
    bins = [{"lower_days": 0, "upper_days": 7, "customers": 40}, {"lower_days": 7, "upper_days": 14, "customers": 20},
            {"lower_days": 14, "upper_days": 28, "customers": 10}, {"lower_days": 28, "upper_days": None, "customers": 5}]
    root = _svg(charts.histogram_chart(bins, chart_id="h", title="Time to convert", median=10.5, p90=21))
    heights = [float(b.get("height")) for b in _bars(root)]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.5) and heights[1] == pytest.approx(4 * heights[3], abs=0.5)
    bar_x = [float(b.get("x")) for b in _bars(root)]
    slot = bar_x[1] - bar_x[0]
    median = root.find(".//s:line[@class='chart-mark-median']", NS)
    assert float(median.get("x1")) == pytest.approx(bar_x[1] - 1 + slot / 2, abs=0.2)  # 10.5 is mid-bin 7-14
    texts = [t.replace("\u2013", "-") for t in _texts(root)]
    assert {"0-7", "7-14", "14-28", "28+"} <= set(texts)
    legend = [t.replace("\u00a0", " ") for t in _texts(root.find(".//s:g[@class='chart-legend']", NS))]
    assert legend == ["Customers", "median 10.5 d", "90th percentile 21 d"]


# ---- rates -----------------------------------------------------------------------------------

def test_rate_bars_follow_the_rates_with_the_base_rate_line():
    items = [{"key": "A", "label": "A", "leads": 100, "customers": 30, "rate": 0.3},
             {"key": "B", "label": "B", "leads": 200, "customers": 30, "rate": 0.15},
             {"key": "ungraded", "label": "Ungraded", "leads": 0, "customers": 0, "rate": None}]
    root = _svg(charts.rate_chart(items, chart_id="r", title="By grade", base_rate=0.2))
    bars = _bars(root)
    assert float(bars[0].get("height")) == pytest.approx(2 * float(bars[1].get("height")), abs=0.5)
    assert float(bars[2].get("height")) == 0
    assert [b.get("class").split()[-1] for b in bars] == ["chart-grade-A", "chart-grade-B", "chart-grade-ungraded"]
    texts = [t.replace("\u00a0", " ") for t in _texts(root)]
    assert {"30 %", "15 %", "—", "A", "Ungraded", "100 leads", "all leads: 20 % converted"} <= set(texts)
    assert root.find(".//s:line[@class='chart-mark-base']", NS) is not None
    assert "A: 30 of 100 leads converted (30 %)" in [t.replace("\u00a0", " ") for t in _tips(root)]
