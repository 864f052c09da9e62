"""Stand-in for hermes_cli/env_loader.py: load_hermes_dotenv, which Hermes
runs at start-up so $HERMES_HOME/.env overrides what the shell exported."""
import os
from pathlib import Path

from hermes_cli.config import parse_env_file


def load_hermes_dotenv(*, hermes_home=None, project_env=None):
    """Puts $HERMES_HOME/.env into os.environ, replacing values already there.
    Returns the files loaded."""
    home = Path(hermes_home or os.getenv("HERMES_HOME") or Path.home() / ".hermes")
    loaded = []
    for path, override in ((home / ".env", True), (Path(project_env) if project_env else None, False)):
        if path is None or not path.is_file():
            continue
        for key, value in parse_env_file(path).items():
            if override or key not in os.environ:
                os.environ[key] = value
        loaded.append(path)
    return loaded


def get_secret_source(env_var):
    """Which external secret store supplied env_var: none in the stand-in."""
    return None
