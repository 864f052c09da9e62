"""Stand-in for hermes_cli/profiles.py: the active profile's name."""
import re

from hermes_constants import get_default_hermes_root, get_hermes_home

_PROFILE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def get_active_profile_name():
    """"default" for the root home, <name> for <root>/profiles/<name>,
    "custom" otherwise."""
    home = get_hermes_home().resolve()
    root = get_default_hermes_root().resolve()
    if home == root:
        return "default"
    try:
        parts = home.relative_to(root / "profiles").parts
        if len(parts) == 1 and _PROFILE_ID_RE.match(parts[0]):
            return parts[0]
    except ValueError:
        pass
    return "custom"
