"""Stand-in for hermes_cli/providers.py: HermesOverlay and HERMES_OVERLAYS."""
from dataclasses import dataclass
from typing import Optional, Tuple

from hermes_cli import _standin


@dataclass(frozen=True)
class HermesOverlay:
    transport: str
    is_aggregator: bool = False
    auth_type: str = "api_key"
    extra_env_vars: Tuple[str, ...] = ()
    base_url_override: Optional[str] = None
    base_url_env_var: Optional[str] = None


OFFICIAL_BASE_URLS = {
    "anthropic": "https://api.anthropic.com",
    "openai-codex": "https://chatgpt.com/backend-api/codex",
    "openai-api": "https://api.openai.com/v1",
    "openrouter": "https://openrouter.ai/api/v1",
}

HERMES_OVERLAYS = {
    "anthropic": HermesOverlay("anthropic_messages", auth_type="api_key_or_oauth",
                               extra_env_vars=("ANTHROPIC_API_KEY",), base_url_env_var="ANTHROPIC_BASE_URL"),
    "openai-codex": HermesOverlay("codex_responses", auth_type="oauth_device_code"),
    "openai-api": HermesOverlay("codex_responses", extra_env_vars=("OPENAI_API_KEY",),
                                base_url_env_var="OPENAI_BASE_URL"),
    "openrouter": HermesOverlay("chat_completions", is_aggregator=True, extra_env_vars=("OPENROUTER_API_KEY",)),
}

for _name in _standin.omitted():
    if _name.startswith("overlay:"):
        HERMES_OVERLAYS.pop(_name.split(":", 1)[1], None)
