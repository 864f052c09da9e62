"""Stand-in for Hermes's top-level utils module: the few helpers the provider,
credential and plugin modules use."""
import os
from urllib.parse import urlparse

TRUTHY_STRINGS = frozenset({"1", "true", "yes", "on"})


def is_truthy_value(value, default=False):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in TRUTHY_STRINGS
    return bool(value)


def env_var_enabled(name, default=""):
    """Whether the environment variable holds 1, true, yes or on."""
    return is_truthy_value(os.getenv(name, default), default=False)


def base_url_hostname(base_url):
    """The URL's host, lower case, without a trailing dot; "" when none."""
    raw = (base_url or "").strip()
    if not raw:
        return ""
    return (urlparse(raw if "://" in raw else "//" + raw).hostname or "").lower().rstrip(".")


def base_url_host_matches(base_url, domain):
    """Whether the URL's host is domain or one of its subdomains."""
    host = base_url_hostname(base_url)
    domain = (domain or "").strip().lower().rstrip(".")
    return bool(host and domain) and (host == domain or host.endswith("." + domain))
