"""zoo's version (read by setup.cfg and recorded in every run's config.json)."""

__version__ = "0.3.0"
