"""Stand-in for Hermes Agent's hermes_cli package (tests only)."""
__version__ = "0.0.0-standin"
