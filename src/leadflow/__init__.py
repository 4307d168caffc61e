"""leadflow: self-hosted lead generation and lead qualification."""

__version__ = "0.1.0"
