"""The deterministic demo workspace generator."""
