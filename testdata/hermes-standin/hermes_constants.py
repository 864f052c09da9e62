"""Stand-in for Hermes's hermes_constants module: the home and the OpenRouter URL."""
import os
from pathlib import Path

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"


def get_hermes_home() -> Path:
    """$HERMES_HOME, else ~/.hermes."""
    value = os.environ.get("HERMES_HOME", "").strip()
    return Path(value) if value else Path.home() / ".hermes"


def get_default_hermes_root() -> Path:
    """~/.hermes when $HERMES_HOME is inside it; for <root>/profiles/<name>
    that root; otherwise $HERMES_HOME itself."""
    native = Path.home() / ".hermes"
    env = os.environ.get("HERMES_HOME", "")
    if not env:
        return native
    path = Path(env)
    try:
        path.resolve().relative_to(native.resolve())
        return native
    except ValueError:
        pass
    return path.parent.parent if path.parent.name == "profiles" else path
