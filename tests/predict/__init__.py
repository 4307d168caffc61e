"""Tests of the predictive scoring core (no database), and the made-up leads they train on."""

from __future__ import annotations

import numpy as np
import polars as pl

# One year of creation times, in epoch seconds, from 2025-01-01 UTC.
START = 1_735_689_600.0
YEAR = 365 * 86_400.0
CHANNELS = ("referral", "webinar", "paid search", "organic", "social")
CHANNEL_EFFECT = (1.5, 0.8, 0.0, -0.3, -1.0)  # log-odds: referrals convert most, social least
# Test-sized boosters: a few strong trees train in a fraction of a second and still rank well.
FAST = {"num_iterations": 60, "learning_rate": 0.1}


def synthetic_leads(n: int = 1_200, *, seed: int = 7, shift: float = 0.0) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """N leads of a made-up B2B funnel, their outcome and creation time.

    The world: the channel and the number of visits drive conversion through a known logistic
    model (SHIFT moves every lead's log-odds, as drift would); budget is text with a few "n/a",
    mildly helpful; country has rare values; noise is pure noise. Around them sit the columns a
    model must drop: a lead number (identifier), a constant and an empty column.
    """
    rng = np.random.default_rng(seed)
    channel = rng.integers(0, len(CHANNELS), n)
    visits = rng.poisson(3.0, n).astype(np.float64)
    budget = rng.choice([1_000.0, 5_000.0, 20_000.0], n)
    logit = np.take(CHANNEL_EFFECT, channel) + 0.45 * (visits - 3.0) + 0.3 * (budget > 1_000) - 0.6 + shift
    target = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    budget_text = np.where(rng.random(n) < 0.03, "n/a", budget.astype(np.int64).astype(str))
    countries = np.array(["Spain", "France", "Germany", "Italy", "Malta", "Iceland"])
    country = countries[np.minimum(rng.geometric(0.45, n) - 1, len(countries) - 1)]
    frame = pl.DataFrame({
        "Lead Number": np.arange(100_000, 100_000 + n).astype(str),
        "channel": np.take(CHANNELS, channel),
        "visits": visits,
        "budget": budget_text,
        "country": country,
        "noise": rng.normal(size=n),
        "newsletter": np.full(n, "No"),
        "empty": pl.Series([None] * n, dtype=pl.String),
    })
    created = START + np.sort(rng.random(n)) * YEAR
    return frame, target, created
