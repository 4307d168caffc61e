"""Inline SVG charts for the dashboard: plain data in, accessible markup out, colours from app.css.

Every chart is an `<svg role="img">` with a `<title>` and a `<desc>`, a legend where there is more
than one kind of mark, axis ticks, and a `<title>` on each bar (the browser shows it as a tooltip).
No colour is written here: marks carry CSS classes (`chart-s1` … `chart-s7`, `chart-stage-*`,
`chart-grade-*`) that app.css paints, in light and dark. Empty data gives a chart of the same
size that says so, so the page does not jump when a filter leaves nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

# Series colours: chart-s1 … chart-s6 for the largest groups, chart-s7 for everything else.
MAX_GROUPS = 6
OTHER_CLASS = "chart-s7"
# About 6.3 px per character of 11.5 px system-ui text; legends are laid out for 7, so they still fit
# when a phone's stylesheet sets their text larger.
CHAR_W = 7.0
TICK_COUNT = 4  # horizontal grid lines above zero: enough to read a value, few enough to stay quiet
MAX_X_LABELS = 12  # period labels under a time chart before they are thinned out
NBSP, EN_DASH = "\u00a0", "\u2013"


# ---- formatting ------------------------------------------------------------------------------

def fmt_int(n: float | None) -> str:
    return "—" if n is None else f"{n:,.0f}"


def fmt_short(n: float) -> str:
    """An axis number: 950, 1.2k, 34k, 1.5M."""
    a = abs(n)
    if a >= 1_000_000:
        return f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if a >= 10_000:
        return f"{n / 1000:.0f}k"
    if a >= 1000:
        return f"{n / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    if a and a < 10 and n != int(n):
        return f"{n:.1f}"
    return f"{n:,.0f}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "—"
    text = f"{x * 100:.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{NBSP}%"


def fmt_money(x: float | None) -> str:
    return "—" if x is None else f"{x:,.2f}"


def fmt_days(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.1f}".rstrip("0").rstrip(".") + f"{NBSP}d"


def period_label(period: str, kind: str, *, long: bool = False) -> str:
    """How a period start ("2026-01-05") reads on an axis ("5 Jan", "Jan 2026") or in a tooltip."""
    try:
        day = date.fromisoformat(period[:10])
    except ValueError:
        return period
    if kind == "month":
        return day.strftime("%B %Y") if long else day.strftime("%b %Y")
    if kind == "week":
        return f"Week of {day.day} {day.strftime('%b %Y')}" if long else f"{day.day} {day.strftime('%b')}"
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b %Y')}" if long else f"{day.day} {day.strftime('%b')}"


def _css_key(value: object) -> str:
    """A value made safe as the end of a CSS class name."""
    return re.sub(r"[^A-Za-z0-9_-]", "", str(value))[:40] or "none"


def _text_width(text: str, size: float = 11.5) -> float:
    return len(text) * CHAR_W * size / 11.5


def _clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def nice_scale(top: float, ticks: int = TICK_COUNT, *, integer: bool = True) -> tuple[float, float]:
    """(step, axis top): a round step (1, 2, 2.5 or 5 times a power of ten) giving about TICKS lines up to TOP."""
    if top <= 0 or not math.isfinite(top):
        return (1.0, float(ticks)) if integer else (0.25, 1.0)
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            step = m * magnitude
            break
    if integer:
        step = max(1.0, math.ceil(step))
    return step, round(math.ceil(top / step - 1e-9) * step, 9)


# ---- the frame -------------------------------------------------------------------------------

def _open(chart_id: str, cls: str, width: float, height: float, title: str, desc: str) -> list[str]:
    cid = escape(chart_id)
    return [f'<svg class="chart {cls}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg" '
            f'preserveAspectRatio="xMidYMin meet">',
            f'<title id="{cid}-title">{escape(title)}</title>',
            f'<desc id="{cid}-desc">{escape(desc)}</desc>']


def empty_chart(chart_id: str, title: str, message: str, *, width: float = 640, height: float = 260,
                cls: str = "") -> Markup:
    """The same frame with a message where the marks would be (no data for the chosen filters)."""
    out = _open(chart_id, f"chart-is-empty {cls}".strip(), width, height, title, message)
    mid_y = height / 2
    out.append(f'<rect class="chart-empty-box" x="1" y="1" width="{width - 2:.0f}" height="{height - 2:.0f}" rx="8"/>')
    out.append(f'<text class="chart-empty-title" x="{width / 2:.0f}" y="{mid_y - 4:.0f}" text-anchor="middle">'
               'No data</text>')
    out.append(f'<text class="chart-empty-text" x="{width / 2:.0f}" y="{mid_y + 18:.0f}" text-anchor="middle">'
               f'{escape(message)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _legend(items: Sequence[tuple[str, str]], *, x0: float, y0: float, width: float,
            kinds: Mapping[str, str] | None = None) -> tuple[list[str], float]:
    """Swatches and names flowing left to right, wrapping at WIDTH; returns the marks and the height used."""
    out, x, y = ['<g class="chart-legend">'], x0, y0
    row_h = 18
    for label, cls in items:
        w = 18 + _text_width(label) + 16
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + row_h
        kind = (kinds or {}).get(cls, "box")
        if kind == "line":
            out.append(f'<line class="{cls}" x1="{x:.1f}" x2="{x + 14:.1f}" y1="{y + 6:.1f}" y2="{y + 6:.1f}"/>')
        else:
            out.append(f'<rect class="chart-key {cls}" x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="3"/>')
        out.append(f'<text class="chart-tick" x="{x + 18:.1f}" y="{y + 10:.1f}">{escape(label)}</text>')
        x += w
    out.append("</g>")
    return out, (y - y0) + row_h


def _y_grid(out: list[str], *, step: float, top: float, left: float, right: float, y_of: Callable[[float], float],
            fmt: Callable[[float], str]) -> None:
    ticks = round(top / step)
    for i in range(ticks + 1):
        v = i * step
        y = y_of(v)
        cls = "chart-grid chart-zero" if i == 0 else "chart-grid"
        out.append(f'<line class="{cls}" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="chart-tick" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(v))}</text>')


# ---- stacked bars over periods ---------------------------------------------------------------

def _next_period(day: date, kind: str) -> date:
    if kind == "month":
        return date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return day + timedelta(days=7 if kind == "week" else 1)


def _fill_periods(periods: list[str], kind: str | None) -> list[str]:
    """The periods from the first to the last, with the empty ones in between (at most 400)."""
    if not periods or kind not in ("day", "week", "month"):
        return periods
    try:
        first, last = date.fromisoformat(periods[0][:10]), date.fromisoformat(periods[-1][:10])
    except ValueError:
        return periods
    filled, day = [], first
    while day <= last and len(filled) < 400:
        filled.append(day.isoformat())
        day = _next_period(day, kind)
    # Periods the stepping does not produce (weeks starting on different days): the data decides.
    return filled if set(periods) <= set(filled) else periods


def top_groups(totals: Mapping[str | None, float], max_groups: int = MAX_GROUPS) -> tuple[list[str | None], list[str | None]]:
    """(shown, folded): the largest groups first; beyond MAX_GROUPS + 1 the rest fold into one."""
    order = sorted(totals, key=lambda g: (-totals[g], g is None, str(g)))
    if len(order) <= max_groups + 1:
        return order, []
    return order[:max_groups], order[max_groups:]


def stacked_bar_chart(
    rows: Sequence[Mapping], *, chart_id: str, title: str, period: str | None = "month", value_key: str = "leads",
    unit: str = "leads", group_label: Callable[[str | None], str] = lambda g: g or "Unknown",
    max_groups: int = MAX_GROUPS, width: float = 720, height: float = 300,
) -> Markup:
    """Bars per period, each stacked by group (rows: {"period", "group", value_key}); top groups + "others"."""
    totals: dict[str | None, float] = {}
    by_cell: dict[tuple[str, str | None], float] = {}
    for r in rows:
        v = float(r.get(value_key) or 0)
        g = r.get("group")
        totals[g] = totals.get(g, 0) + v
        key = (str(r["period"]), g)
        by_cell[key] = by_cell.get(key, 0) + v
    grand = sum(totals.values())
    if not rows or grand <= 0:
        return empty_chart(chart_id, title, f"No {unit} in this range.", width=width, height=height)
    shown, folded = top_groups(totals, max_groups)
    series: list[tuple[str, str, list[str | None]]] = [
        (group_label(g), f"chart-s{i + 1}", [g]) for i, g in enumerate(shown)]
    if folded:
        series.append((f"{len(folded)} others", OTHER_CLASS, folded))
    periods = _fill_periods(sorted({p for p, _ in by_cell}), period)
    columns = [[sum(by_cell.get((p, g), 0) for g in groups) for _, _, groups in series] for p in periods]
    highest = max(sum(c) for c in columns)
    step, top = nice_scale(highest * 1.08)

    legend_items = [(label, cls) for label, cls, _ in series]
    pad_l, pad_r, pad_b = 48, 10, 30
    legend, legend_h = _legend(legend_items, x0=pad_l, y0=4, width=width - pad_l - pad_r)
    pad_t = 4 + legend_h + 14
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    slot = inner_w / len(periods)
    bar_w = max(min(slot * 0.68, 56), 1.0)
    single = len(series) == 1

    def y_of(v: float) -> float:
        return pad_t + inner_h * (1 - v / top)

    desc = (f"{fmt_int(grand)} {unit} in {len(periods)} period{'s' if len(periods) != 1 else ''}, by "
            + ", ".join(f"{label} {fmt_int(sum(totals.get(g, 0) for g in groups))}" for label, _, groups in series) + ".")
    out = _open(chart_id, "chart-stack", width, height, title, desc)
    _y_grid(out, step=step, top=top, left=pad_l, right=width - pad_r, y_of=y_of, fmt=fmt_short)
    label_every = max(1, math.ceil(len(periods) / MAX_X_LABELS))
    show_totals = len(periods) <= 16
    for i, (p, values) in enumerate(zip(periods, columns, strict=True)):
        x = pad_l + i * slot + (slot - bar_w) / 2
        total = sum(values)
        when = period_label(p, period or "day", long=True)
        out.append(f'<g class="chart-col" data-period="{escape(p)}" data-total="{total:g}">')
        base = 0.0
        for (label, cls, _), v in zip(series, values, strict=True):
            if v <= 0:
                continue
            y_top, y_bottom = y_of(base + v), y_of(base)
            share = f" ({fmt_pct(v / total, 0)})" if total and not single else ""
            out.append(f'<rect class="chart-bar {cls}" x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
                       f'height="{y_bottom - y_top:.1f}" data-value="{v:g}"><title>{escape(when)} · {escape(label)}: '
                       f'{fmt_int(v)} {escape(unit)}{share}</title></rect>')
            base += v
        if total <= 0:
            out.append(f'<rect class="chart-hit" x="{x:.1f}" y="{pad_t}" width="{bar_w:.1f}" height="{inner_h:.1f}">'
                       f'<title>{escape(when)}: no {escape(unit)}</title></rect>')
        if show_totals and total > 0:
            out.append(f'<text class="chart-value" x="{x + bar_w / 2:.1f}" y="{y_of(total) - 5:.1f}" '
                       f'text-anchor="middle">{fmt_short(total)}</text>')
        if i % label_every == 0:
            out.append(f'<text class="chart-tick" x="{x + bar_w / 2:.1f}" y="{height - pad_b + 17}" '
                       f'text-anchor="middle">{escape(period_label(p, period or "day"))}</text>')
        out.append("</g>")
    out.extend(legend)
    out.append("</svg>")
    return Markup("".join(out))


# ---- the funnel ------------------------------------------------------------------------------

def funnel_chart(
    steps: Sequence[Mapping], *, chart_id: str, title: str, stage_label: Callable[[str], str] = str,
    unit: str = "leads", width: float = 440,
) -> Markup:
    """Horizontal bars, one per stage reached (steps: {"stage", "reached", "rate_from_previous", "rate_from_start"})."""
    row_h, bar_h, pad_t = 56, 24, 6
    height = pad_t + row_h * max(len(steps), 1) + 4
    first = float(steps[0].get("reached") or 0) if steps else 0.0
    if not steps or first <= 0:
        return empty_chart(chart_id, title, f"No {unit} in this range.", width=width, height=max(height, 200),
                           cls="chart-funnel")
    widest = max(float(s.get("reached") or 0) for s in steps) or 1.0
    label_w, num_w = 160, 104
    track = width - label_w - num_w
    parts = []
    for s in steps:
        parts.append(f"{stage_label(s['stage'])} {fmt_int(s.get('reached'))}")
    out = _open(chart_id, "chart-funnel", width, height, title,
                f"Of {fmt_int(first)} {unit}: " + ", ".join(parts) + ".")
    for i, s in enumerate(steps):
        reached = float(s.get("reached") or 0)
        y = pad_t + i * row_h + (row_h - bar_h) / 2 + 6
        w = max(track * reached / widest, 2.0 if reached else 0.0)
        x = label_w + (track - w) / 2  # centred: the funnel shape
        name = stage_label(s["stage"])
        cls = f"chart-stage-{_css_key(s['stage'])}"
        from_start = s.get("rate_from_start")
        from_prev = s.get("rate_from_previous")
        tip = f"{name}: {fmt_int(reached)} {unit}"
        if i:
            tip += f", {fmt_pct(from_prev)} of the previous step, {fmt_pct(from_start)} of all"
        out.append(f'<g class="chart-step" data-stage="{escape(s["stage"])}" data-reached="{reached:g}">'
                   f'<title>{escape(tip)}</title>')
        out.append(f'<rect class="chart-track" x="{label_w}" y="{y:.1f}" width="{track:.1f}" height="{bar_h}" rx="4"/>')
        out.append(f'<rect class="chart-bar {cls}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" rx="4"/>')
        out.append(f'<text class="chart-label" x="{label_w - 10}" y="{y + bar_h / 2 + 4:.1f}" text-anchor="end">'
                   f'{escape(_clip(name, 20))}</text>')
        out.append(f'<text class="chart-value" x="{width - 58}" y="{y + bar_h / 2 + 4:.1f}" text-anchor="end">'
                   f'{fmt_int(reached)}</text>')
        out.append(f'<text class="chart-tick" x="{width - 4}" y="{y + bar_h / 2 + 4:.1f}" text-anchor="end">'
                   f'{fmt_pct(from_start if i else 1.0)}</text>')
        if i:
            # Between this bar and the one above: how many of the previous step got here.
            out.append(f'<text class="chart-step-rate" x="{label_w + track / 2:.1f}" y="{y - 7:.1f}" '
                       f'text-anchor="middle">↓ {fmt_pct(from_prev)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


# ---- horizontal bars (cost per lead by campaign) ---------------------------------------------

def hbar_chart(
    items: Sequence[Mapping], *, chart_id: str, title: str, desc_unit: str, fmt: Callable[[float | None], str] = fmt_money,
    missing: str = "no leads", max_items: int = 10, width: float = 520,
) -> Markup:
    """One bar per item ({"label", "value", "note"}) in the order given, its name above it; None says MISSING."""
    items = list(items)
    valued = [float(i["value"]) for i in items if i.get("value") is not None]
    if not items:
        return empty_chart(chart_id, title, "Nothing to show in this range.", width=width, height=200)
    shown, rest = items[:max_items], len(items) - max_items
    # Names go above their bars, so long campaign names fit on a phone as on a laptop.
    row_h, bar_h, name_h, pad_t, pad_b = 38, 12, 17, 4, 24 + (18 if rest > 0 else 0)
    height = pad_t + row_h * len(shown) + pad_b
    left, right = 2, width - 76
    track = right - left
    step, top = nice_scale(max(valued, default=0) * 1.02, integer=False)
    if not valued:
        step, top = 1.0, 4.0
    bottom = pad_t + row_h * len(shown)
    out = _open(chart_id, "chart-hbar", width, height, title,
                f"{desc_unit}: " + ", ".join(f"{i['label']} {fmt(i.get('value'))}" for i in shown) + ".")
    ticks = round(top / step)
    for k in range(ticks + 1):
        x = left + track * (k * step) / top
        cls = "chart-grid chart-zero" if k == 0 else "chart-grid"
        out.append(f'<line class="{cls}" x1="{x:.1f}" x2="{x:.1f}" y1="{pad_t + name_h}" y2="{bottom:.1f}"/>')
        anchor = "start" if k == 0 else "middle"
        out.append(f'<text class="chart-tick" x="{x:.1f}" y="{bottom + 16:.1f}" text-anchor="{anchor}">'
                   f'{escape(fmt_short(k * step))}</text>')
    for n, item in enumerate(shown):
        top_y = pad_t + n * row_h
        y = top_y + name_h + 2
        value = item.get("value")
        name = str(item["label"])
        note = item.get("note")
        tip = f"{name}: {fmt(value) if value is not None else missing}" + (f" ({note})" if note else "")
        out.append(f'<g class="chart-row" data-value="{"" if value is None else f"{float(value):.10g}"}">'
                   f'<title>{escape(tip)}</title>')
        out.append(f'<rect class="chart-hit" x="0" y="{top_y:.1f}" width="{width:.0f}" height="{row_h}"/>')
        out.append(f'<text class="chart-label" x="{left}" y="{top_y + 13:.1f}">{escape(_clip(name, 48))}</text>')
        if value is None:
            out.append(f'<text class="chart-tick chart-missing" x="{left}" y="{y + bar_h - 1:.1f}">{escape(missing)}</text>')
        else:
            w = max(track * float(value) / top, 2.0 if value else 0.0)
            out.append(f'<rect class="chart-bar chart-s1" x="{left}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" rx="3"/>')
            out.append(f'<text class="chart-value" x="{left + w + 6:.1f}" y="{y + bar_h - 1:.1f}">{escape(fmt(value))}</text>')
        out.append("</g>")
    if rest > 0:
        out.append(f'<text class="chart-tick" x="{left}" y="{height - 4}">and {rest} more in the table</text>')
    out.append("</svg>")
    return Markup("".join(out))


# ---- histogram (time to convert) -------------------------------------------------------------

def _bin_label(lower: float, upper: float | None) -> str:
    lo = f"{lower:g}"
    return f"{lo}+" if upper is None else f"{lo}{EN_DASH}{upper:g}"


def histogram_chart(
    bins: Sequence[Mapping], *, chart_id: str, title: str, count_key: str = "customers", unit: str = "customers",
    axis: str = "Days from lead to customer", median: float | None = None, p90: float | None = None,
    width: float = 500, height: float = 260,
) -> Markup:
    """Adjacent bars per bin ({"lower_days", "upper_days", count_key}) with the median and 90th percentile marked."""
    counts = [float(b.get(count_key) or 0) for b in bins]
    total = sum(counts)
    if not bins or total <= 0:
        return empty_chart(chart_id, title, f"No {unit} in this range.", width=width, height=height)
    pad_l, pad_r, pad_t, pad_b = 48, 10, 32, 46
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    step, top = nice_scale(max(counts) * 1.1)
    slot = inner_w / len(bins)

    def y_of(v: float) -> float:
        return pad_t + inner_h * (1 - v / top)

    def x_of(days: float) -> float | None:
        """Where DAYS falls on the axis, read inside its bin (None beyond the last closed bin)."""
        for k, b in enumerate(bins):
            lower, upper = float(b["lower_days"]), b.get("upper_days")
            if upper is None:
                return pad_l + (k + 0.5) * slot if days >= lower else None
            if lower <= days < float(upper) or (k == 0 and days < lower):
                frac = (days - lower) / (float(upper) - lower) if float(upper) > lower else 0
                return pad_l + (k + max(0.0, frac)) * slot
        return None

    marks = []
    if median is not None:
        marks.append(("median", median, "chart-mark-median"))
    if p90 is not None:
        marks.append(("90th percentile", p90, "chart-mark-p90"))
    desc = (f"{fmt_int(total)} {unit} by {axis.lower()}"
            + "".join(f"; {name} {fmt_days(v)}" for name, v, _ in marks) + ".")
    out = _open(chart_id, "chart-hist", width, height, title, desc)
    _y_grid(out, step=step, top=top, left=pad_l, right=width - pad_r, y_of=y_of, fmt=fmt_short)
    label_every = max(1, math.ceil(len(bins) / MAX_X_LABELS))
    for k, (b, c) in enumerate(zip(bins, counts, strict=True)):
        x = pad_l + k * slot + 1
        h = inner_h * c / top
        label = _bin_label(float(b["lower_days"]), None if b.get("upper_days") is None else float(b["upper_days"]))
        out.append(f'<g class="chart-col" data-value="{c:g}"><title>{escape(label)} days: {fmt_int(c)} {escape(unit)} '
                   f'({fmt_pct(c / total)})</title>')
        out.append(f'<rect class="chart-bar chart-s1" x="{x:.1f}" y="{y_of(c):.1f}" width="{max(slot - 2, 1):.1f}" '
                   f'height="{h:.1f}"/>')
        if c and len(bins) <= 16:
            out.append(f'<text class="chart-value" x="{x + slot / 2 - 1:.1f}" y="{y_of(c) - 5:.1f}" '
                       f'text-anchor="middle">{fmt_short(c)}</text>')
        if k % label_every == 0:
            out.append(f'<text class="chart-tick" x="{x + slot / 2 - 1:.1f}" y="{height - pad_b + 16}" '
                       f'text-anchor="middle">{escape(label)}</text>')
        out.append("</g>")
    for name, v, cls in marks:
        x = x_of(v)
        if x is None:
            continue
        out.append(f'<line class="{cls}" x1="{x:.1f}" x2="{x:.1f}" y1="{pad_t - 4}" y2="{pad_t + inner_h:.1f}">'
                   f'<title>{escape(name)}: {fmt_days(v)}</title></line>')
    out.append(f'<text class="chart-axis" x="{pad_l + inner_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               f'{escape(axis)}</text>')
    legend_items = [(unit.capitalize(), "chart-s1")] + [(f"{name} {fmt_days(v)}", cls) for name, v, cls in marks]
    legend, _ = _legend(legend_items, x0=pad_l, y0=4, width=inner_w,
                        kinds={cls: "line" for _, _, cls in marks})
    out.extend(legend)
    out.append("</svg>")
    return Markup("".join(out))


# ---- rates per category (conversion by grade) ------------------------------------------------

def rate_chart(
    items: Sequence[Mapping], *, chart_id: str, title: str, base_rate: float | None = None,
    axis: str = "Grade", unit: str = "leads", width: float = 500, height: float = 260,
) -> Markup:
    """A bar per category ({"key", "label", "leads", "customers", "rate"}) with its rate above; base rate dashed."""
    leads = sum(int(i.get("leads") or 0) for i in items)
    if not items or leads <= 0:
        return empty_chart(chart_id, title, f"No {unit} in this range.", width=width, height=height)
    rates = [float(i.get("rate") or 0) for i in items]
    highest = max([*rates, base_rate or 0.0])
    step, top = nice_scale(highest * 1.15 or 0.1, integer=False)
    top = min(top, max(1.0, highest))
    pad_l, pad_r, pad_t, pad_b = 48, 10, 32, 50
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    slot = inner_w / len(items)
    bar_w = min(slot * 0.6, 72)

    def y_of(v: float) -> float:
        return pad_t + inner_h * (1 - v / top)

    desc = "Conversion rate " + ", ".join(f"{i['label']} {fmt_pct(i.get('rate'))}" for i in items)
    desc += f"; all {unit} {fmt_pct(base_rate)}." if base_rate is not None else "."
    out = _open(chart_id, "chart-rates", width, height, title, desc)
    _y_grid(out, step=step, top=top, left=pad_l, right=width - pad_r, y_of=y_of, fmt=lambda v: fmt_pct(v, 0))
    for k, (item, rate) in enumerate(zip(items, rates, strict=True)):
        x = pad_l + k * slot + (slot - bar_w) / 2
        n = int(item.get("leads") or 0)
        label = str(item["label"])
        has = n > 0 and item.get("rate") is not None
        h = inner_h * rate / top if has else 0
        cls = f"chart-grade-{_css_key(item.get('key', label))}"
        tip = (f"{label}: {fmt_int(item.get('customers'))} of {fmt_int(n)} {unit} converted ({fmt_pct(item.get('rate'))})"
               if has else f"{label}: no {unit}")
        out.append(f'<g class="chart-col" data-rate="{rate:g}"><title>{escape(tip)}</title>')
        out.append(f'<rect class="chart-bar {cls}" x="{x:.1f}" y="{y_of(rate) if has else pad_t + inner_h:.1f}" '
                   f'width="{bar_w:.1f}" height="{max(h, 1.5 if has else 0):.1f}" rx="3"/>')
        out.append(f'<text class="chart-value" x="{x + bar_w / 2:.1f}" y="{(y_of(rate) if has else pad_t + inner_h) - 6:.1f}" '
                   f'text-anchor="middle">{fmt_pct(item.get("rate")) if has else "—"}</text>')
        out.append(f'<text class="chart-label" x="{x + bar_w / 2:.1f}" y="{height - pad_b + 18}" '
                   f'text-anchor="middle">{escape(_clip(label, 12))}</text>')
        out.append(f'<text class="chart-tick" x="{x + bar_w / 2:.1f}" y="{height - pad_b + 33}" '
                   f'text-anchor="middle">{fmt_short(n)} {escape(unit)}</text></g>')
    if base_rate is not None:
        # The bars name themselves on the axis; the legend explains the dashed line.
        y = y_of(base_rate)
        out.append(f'<line class="chart-mark-base" x1="{pad_l}" x2="{width - pad_r}" y1="{y:.1f}" y2="{y:.1f}">'
                   f'<title>All {escape(unit)}: {fmt_pct(base_rate)}</title></line>')
        legend, _ = _legend([(f"all {unit}: {fmt_pct(base_rate)} converted", "chart-mark-base")], x0=pad_l, y0=4,
                            width=inner_w, kinds={"chart-mark-base": "line"})
        out.extend(legend)
    out.append("</svg>")
    return Markup("".join(out))
