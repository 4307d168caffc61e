"""Forms, landing pages and submissions (the ways leads arrive)."""
