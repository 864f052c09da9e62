"""Stand-in for Hermes Agent's agent package (tests only)."""
