"""Predictive scoring: a calibrated gradient-boosting model of conversion, trained on known outcomes."""
