"""Stand-in for hermes_cli/runtime_provider.py: resolve_runtime_provider. For
an OAuth credential the URL comes from the credential or the overlay and the
function returns early, before config.yaml is looked at, as in Hermes."""
import os

from agent.credential_pool import load_pool
from hermes_cli import _standin
from hermes_cli.providers import HERMES_OVERLAYS, OFFICIAL_BASE_URLS


def _is_oauth(cred):
    return cred.auth_type == "oauth" or cred.access_token.startswith("sk-ant-oat")


def resolve_runtime_provider(requested=None, explicit_api_key=None, explicit_base_url=None, target_model=None,
                             **kwargs):
    config = _standin.read_config()["model"]
    provider = requested or config.get("provider") or _standin.read_auth().get("active_provider")
    overlay = HERMES_OVERLAYS.get(provider)
    pool = load_pool(provider)
    cred = pool[0] if pool else None
    api_key = explicit_api_key or (cred.access_token if cred else None)
    result = {"provider": provider, "api_mode": overlay.transport if overlay else "chat_completions",
              "api_key": api_key, "source": cred.source if cred else "none"}
    if explicit_base_url:
        return dict(result, base_url=explicit_base_url)
    if cred and _is_oauth(cred):
        return dict(result, base_url=cred.runtime_base_url)  # the early return
    base = None
    if config.get("provider") == provider:
        base = config.get("base_url")
    if not base and overlay and overlay.base_url_env_var:
        base = os.environ.get(overlay.base_url_env_var)
    base = base or (cred.base_url if cred else None) or (overlay.base_url_override if overlay else None)
    return dict(result, base_url=base or OFFICIAL_BASE_URLS.get(provider))


if "runtime" in _standin.omitted():
    del resolve_runtime_provider
