"""Fit grade, engagement score with decay, intent: the scoring model, its engine, ledger and backtest."""
