"""Stand-in for hermes_cli/providers.py: HermesOverlay and HERMES_OVERLAYS with
Hermes's values for the providers hr cares about, and get_provider(), the
only reader of the overlays (the runtime resolver and the credential pool do
not look at them: changing an overlay alone routes nothing)."""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from hermes_cli import _standin


@dataclass(frozen=True)
class HermesOverlay:
    transport: str = "openai_chat"
    is_aggregator: bool = False
    auth_type: str = "api_key"
    extra_env_vars: Tuple[str, ...] = ()
    base_url_override: str = ""
    base_url_env_var: str = ""


HERMES_OVERLAYS: Dict[str, HermesOverlay] = {
    "openrouter": HermesOverlay(transport="openai_chat", is_aggregator=True, base_url_env_var="OPENROUTER_BASE_URL"),
    "nous": HermesOverlay(transport="openai_chat", auth_type="oauth_device_code",
                          base_url_override="https://inference-api.nousresearch.com/v1"),
    "openai-codex": HermesOverlay(transport="codex_responses", auth_type="oauth_external",
                                  base_url_override="https://chatgpt.com/backend-api/codex"),
    "openai-api": HermesOverlay(transport="codex_responses", base_url_override="https://api.openai.com/v1",
                                base_url_env_var="OPENAI_BASE_URL"),
    "anthropic": HermesOverlay(transport="anthropic_messages",
                               extra_env_vars=("ANTHROPIC_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")),
}


@dataclass
class ProviderDef:
    id: str
    name: str
    transport: str
    api_key_env_vars: Tuple[str, ...]
    base_url: str = ""
    base_url_env_var: str = ""
    is_aggregator: bool = False
    auth_type: str = "api_key"
    doc: str = ""
    source: str = ""


# What Hermes takes from its models.dev catalog for these providers.
_CATALOG = {
    "anthropic": ("Anthropic", ("ANTHROPIC_API_KEY",), "https://api.anthropic.com"),
    "openrouter": ("OpenRouter", ("OPENROUTER_API_KEY",), "https://openrouter.ai/api/v1"),
}
_LABELS = {"nous": "Nous Portal", "openai-codex": "OpenAI Codex"}
ALIASES = {"openai": "openrouter", "claude": "anthropic", "claude-code": "anthropic"}


def normalize_provider(name: str) -> str:
    key = name.strip().lower()
    return ALIASES.get(key, key)


def get_provider(name: str) -> Optional[ProviderDef]:
    """The provider's definition: the catalog's, with the overlay's transport,
    auth type and URL override on top; or the overlay's alone."""
    pid = normalize_provider(name)
    overlay = HERMES_OVERLAYS.get(pid)
    if pid in _CATALOG:
        label, env, url = _CATALOG[pid]
        env = list(env) + [v for v in (overlay.extra_env_vars if overlay else ()) if v not in env]
        return ProviderDef(id=pid, name=label, transport=overlay.transport if overlay else "openai_chat",
                           api_key_env_vars=tuple(env), base_url=(overlay.base_url_override if overlay else "") or url,
                           base_url_env_var=overlay.base_url_env_var if overlay else "",
                           is_aggregator=overlay.is_aggregator if overlay else False,
                           auth_type=overlay.auth_type if overlay else "api_key", source="models.dev")
    if overlay is not None:
        return ProviderDef(id=pid, name=_LABELS.get(pid, pid), transport=overlay.transport,
                           api_key_env_vars=overlay.extra_env_vars, base_url=overlay.base_url_override,
                           base_url_env_var=overlay.base_url_env_var, is_aggregator=overlay.is_aggregator,
                           auth_type=overlay.auth_type, source="hermes")
    return None


for _name in _standin.omitted():
    if _name.startswith("overlay:"):
        HERMES_OVERLAYS.pop(_name.split(":", 1)[1], None)
