"""Stand-in for hermes_cli/config.py: config.yaml and $HERMES_HOME/.env as
Hermes reads them (load_config, load_env, get_env_value_prefer_dotenv)."""
import copy
import os
from pathlib import Path

from hermes_cli import _standin
from hermes_constants import get_hermes_home


def get_config_path() -> Path:
    return get_hermes_home() / "config.yaml"


def get_env_path() -> Path:
    return get_hermes_home() / ".env"


def load_config_readonly():
    """config.yaml as a dict ({} when absent). Read anew on every call."""
    data = _standin.read_yaml(str(get_config_path()))
    return data if isinstance(data, dict) else {}


def load_config():
    return copy.deepcopy(load_config_readonly())


def cfg_get(config, *keys, default=None):
    node = config
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def _parse_env_value(raw):
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, i, inner = [], 0, value[1:-1]
        while i < len(inner):
            if inner[i] == "\\" and i + 1 < len(inner) and inner[i + 1] in '"\\':
                out.append(inner[i + 1])
                i += 2
                continue
            out.append(inner[i])
            i += 1
        return "".join(out)
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


def parse_env_file(path):
    """KEY=VALUE pairs of a .env file ("export " allowed, # comments); {}
    when it cannot be read."""
    values = {}
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[7:]
        key, _, value = line.partition("=")
        if key.strip():
            values[key.strip()] = _parse_env_value(value)
    return values


def load_env():
    """KEY=VALUE pairs of $HERMES_HOME/.env."""
    return parse_env_file(get_env_path())


def get_env_value_prefer_dotenv(key):
    """The .env value when it is set, else the process environment's."""
    value = load_env().get(key)
    return value if value else os.environ.get(key)
