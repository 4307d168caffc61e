"""Campaigns, their channels and UTM mapping, and the daily spend ledger."""
