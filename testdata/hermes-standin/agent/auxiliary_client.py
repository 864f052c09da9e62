"""Stand-in for agent/auxiliary_client.py: the second client Hermes uses for
side tasks (session titles, summaries, its own context compression). Like
Hermes, it builds that client from the credential pool, not from the main
runtime: anthropic takes the selected pool entry's URL (else
_ANTHROPIC_DEFAULT_BASE_URL), and model.base_url only when model.provider is
anthropic and the host is api.anthropic.com; openai-codex the entry's URL
(else _CODEX_AUX_BASE_URL); openrouter the entry's URL (else OpenRouter's);
openai-api its key's URL (OPENAI_BASE_URL or the official one), replaced by
the main runtime's base_url when the caller passes it. A client here is a
small object with provider, base_url, api_key and api_mode that sends one
request (loopback addresses only). As in Hermes 0.18.2, auxiliary calls do
not fire the pre_api_request hook."""
import logging
import os
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlparse

from agent.credential_pool import load_pool
from hermes_cli import _standin
from hermes_constants import OPENROUTER_BASE_URL

logger = logging.getLogger(__name__)

_OPENROUTER_MODEL = "google/gemini-3-flash-preview"
_ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com"
_CODEX_AUX_BASE_URL = "https://chatgpt.com/backend-api/codex"
_ANTHROPIC_COMPATIBLE_HOSTS = frozenset({"api.anthropic.com"})


class _Message:
    def __init__(self, content):
        self.content = content


class _Choice:
    def __init__(self, content):
        self.message = _Message(content)


class AuxiliaryResponse:
    """What one auxiliary request gave: url, status, body (and choices)."""

    def __init__(self, url, status, body):
        self.url, self.status, self.body = url, status, body
        self.choices = [_Choice("")]


class _Completions:
    def __init__(self, client):
        self._client = client

    def create(self, *, model=None, messages=None, max_tokens=None, **_):
        c = self._client
        url, status, body = _standin.post(base_url=c.base_url, api_mode=c.api_mode, api_key=c.api_key,
                                          provider=c.provider, model=model or c.model, messages=messages or [],
                                          max_tokens=max_tokens or 64)
        return AuxiliaryResponse(url, status, body)


class AuxiliaryClient:
    """Stands for the SDK client (and Hermes's Codex / Anthropic wrappers)."""

    def __init__(self, provider, base_url, api_key, api_mode, model):
        self.provider, self.api_key, self.api_mode, self.model = provider, api_key, api_mode, model
        self.base_url = str(base_url or "").rstrip("/")
        self.chat = type("_Chat", (), {})()
        self.chat.completions = _Completions(self)


def _select_pool_entry(provider: str) -> Tuple[bool, Optional[Any]]:
    """(whether the provider has a pool, its selected entry)."""
    try:
        pool = load_pool(provider)
    except Exception as exc:
        logger.debug("Auxiliary client: could not load pool for %s: %s", provider, exc)
        return False, None
    if not pool or not pool.has_credentials():
        return False, None
    try:
        return True, pool.select()
    except Exception:
        return True, None


def _peek_pool_entry(provider: str) -> Optional[Any]:
    try:
        pool = load_pool(provider)
    except Exception:
        return None
    if not pool or not pool.has_credentials():
        return None
    current = pool.current()
    return current if current is not None else pool.peek()


def _pool_runtime_api_key(entry: Any) -> str:
    if entry is None:
        return ""
    return str(getattr(entry, "runtime_api_key", None) or getattr(entry, "access_token", "") or "").strip()


def _pool_runtime_base_url(entry: Any, fallback: str = "") -> str:
    """The entry's runtime_base_url (then inference_base_url, base_url), else fallback."""
    if entry is None:
        return str(fallback or "").strip().rstrip("/")
    url = (getattr(entry, "runtime_base_url", None) or getattr(entry, "inference_base_url", None)
           or getattr(entry, "base_url", None) or fallback)
    return str(url or "").strip().rstrip("/")


def _is_anthropic_compatible_host(url: str) -> bool:
    host = (urlparse(url or "").hostname or "").strip().lower().rstrip(".")
    return host in _ANTHROPIC_COMPATIBLE_HOSTS


def _read_main_provider() -> str:
    from hermes_cli.config import load_config

    model = load_config().get("model")
    provider = model.get("provider", "") if isinstance(model, dict) else ""
    return provider.strip().lower() if isinstance(provider, str) else ""


def _read_main_model() -> str:
    from hermes_cli.config import load_config

    model = load_config().get("model")
    if isinstance(model, str):
        return model.strip()
    value = model.get("default", "") if isinstance(model, dict) else ""
    return value.strip() if isinstance(value, str) else ""


def _read_codex_access_token() -> Optional[str]:
    present, entry = _select_pool_entry("openai-codex")
    if present and _pool_runtime_api_key(entry):
        return _pool_runtime_api_key(entry)
    try:
        from hermes_cli.auth import get_provider_auth_state

        tokens = (get_provider_auth_state("openai-codex") or {}).get("tokens") or {}
        token = tokens.get("access_token")
        return token.strip() if isinstance(token, str) and token.strip() else None
    except Exception:
        return None


def _try_anthropic(explicit_api_key: str = None) -> Tuple[Optional[Any], Optional[str]]:
    present, entry = _select_pool_entry("anthropic")
    if present and entry is not None:
        token = explicit_api_key or _pool_runtime_api_key(entry)
    else:
        from agent.anthropic_adapter import resolve_anthropic_token

        entry = None
        token = explicit_api_key or resolve_anthropic_token()
    if not token:
        return None, None
    base_url = _pool_runtime_base_url(entry, _ANTHROPIC_DEFAULT_BASE_URL) if present else _ANTHROPIC_DEFAULT_BASE_URL
    try:
        from hermes_cli.config import load_config

        model_cfg = load_config().get("model")
        if isinstance(model_cfg, dict) and str(model_cfg.get("provider") or "").strip().lower() == "anthropic":
            cfg_base = str(model_cfg.get("base_url") or "").strip().rstrip("/")
            if cfg_base and _is_anthropic_compatible_host(cfg_base):
                base_url = cfg_base
    except Exception:
        pass
    model = "claude-haiku-4-5-20251001"
    return AuxiliaryClient("anthropic", base_url, token, "anthropic_messages", model), model


def _build_codex_client(model: str) -> Tuple[Optional[Any], Optional[str]]:
    if not model:
        return None, None
    present, entry = _select_pool_entry("openai-codex")
    token = _pool_runtime_api_key(entry) if present else ""
    if token:
        base_url = _pool_runtime_base_url(entry, _CODEX_AUX_BASE_URL) or _CODEX_AUX_BASE_URL
    else:
        token = _read_codex_access_token()
        if not token:
            return None, None
        base_url = _CODEX_AUX_BASE_URL
    return AuxiliaryClient("openai-codex", base_url, token, "codex_responses", model), model


def _try_openrouter(explicit_api_key: str = None, model: str = None) -> Tuple[Optional[Any], Optional[str]]:
    present, entry = _select_pool_entry("openrouter")
    if present:
        key = explicit_api_key or _pool_runtime_api_key(entry)
        if key:
            base_url = _pool_runtime_base_url(entry, OPENROUTER_BASE_URL) or OPENROUTER_BASE_URL
            return AuxiliaryClient("openrouter", base_url, key, "chat_completions",
                                   model or _OPENROUTER_MODEL), model or _OPENROUTER_MODEL
    key = explicit_api_key or os.getenv("OPENROUTER_API_KEY")
    if not key:
        return None, None
    return AuxiliaryClient("openrouter", OPENROUTER_BASE_URL, key, "chat_completions",
                           model or _OPENROUTER_MODEL), model or _OPENROUTER_MODEL


def _api_key_provider_client(provider, model, explicit_base_url, explicit_api_key, api_mode):
    from hermes_cli.auth import PROVIDER_REGISTRY, resolve_api_key_provider_credentials

    pconfig = PROVIDER_REGISTRY.get(provider)
    creds = resolve_api_key_provider_credentials(provider)
    key = (explicit_api_key or "").strip() or str(creds.get("api_key") or "").strip()
    if not key:
        return None, None
    base_url = (explicit_base_url or "").strip().rstrip("/") or creds.get("base_url") or pconfig.inference_base_url
    mode = api_mode if api_mode in ("codex_responses", "anthropic_messages") else "chat_completions"
    return AuxiliaryClient(provider, base_url, key, mode, model), model


def resolve_provider_client(provider, model=None, async_mode=False, raw_codex=False, explicit_base_url=None,
                            explicit_api_key=None, api_mode=None, main_runtime=None, is_vision=False, task=None):
    """(client, model) for a provider, or (None, None) without credentials."""
    provider = (provider or "").strip().lower()
    provider = {"codex": "openai-codex", "claude": "anthropic"}.get(provider, provider)
    if not model and provider != "auto":
        model = _read_main_model() or model
    if provider == "auto":
        return _resolve_auto(main_runtime=main_runtime, task=task)
    if provider == "openrouter":
        return _try_openrouter(explicit_api_key=explicit_api_key, model=model)
    if provider == "openai-codex":
        return _build_codex_client(model)
    if provider == "anthropic":
        client, default = _try_anthropic(explicit_api_key=explicit_api_key)
        return (client, model or default) if client is not None else (None, None)
    if provider == "custom":
        base_url = (explicit_base_url or "").strip()
        if not base_url:
            return None, None
        mode = api_mode if api_mode in ("codex_responses", "anthropic_messages") else "chat_completions"
        return AuxiliaryClient("custom", base_url, explicit_api_key or "no-key-required", mode, model), model
    from hermes_cli.auth import PROVIDER_REGISTRY

    pconfig = PROVIDER_REGISTRY.get(provider)
    if pconfig is not None and pconfig.auth_type == "api_key":
        return _api_key_provider_client(provider, model, explicit_base_url, explicit_api_key, api_mode)
    return None, None


def _resolve_auto(main_runtime: Optional[Dict[str, Any]] = None, task: Optional[str] = None):
    """The main provider and model first (with the main runtime's key, and its
    base_url where that provider's client takes one); then OpenRouter, then
    the API-key providers."""
    runtime = {k: v.strip() for k, v in (main_runtime or {}).items() if isinstance(v, str) and v.strip()}
    provider = (runtime.get("provider") or _read_main_provider() or "").lower()
    model = runtime.get("model") or _read_main_model()
    if provider and model and provider != "auto":
        client, resolved = resolve_provider_client(provider, model, explicit_base_url=runtime.get("base_url"),
                                                   explicit_api_key=runtime.get("api_key"),
                                                   api_mode=runtime.get("api_mode"))
        if client is not None:
            return client, resolved or model
    client, resolved = _try_openrouter()
    if client is not None:
        return client, resolved
    for fallback in ("anthropic", "openai-api"):
        client, resolved = resolve_provider_client(fallback, model)
        if client is not None:
            return client, resolved
    return None, None


def _task_config(task):
    from hermes_cli.config import load_config

    aux = load_config().get("auxiliary")
    cfg = aux.get(task) if isinstance(aux, dict) and task else None
    return cfg if isinstance(cfg, dict) else {}


def call_llm(task=None, *, provider=None, model=None, base_url=None, api_key=None, messages=None, max_tokens=None,
             temperature=None, timeout=None, main_runtime=None, **_):
    """One auxiliary request for task (config.yaml auxiliary.<task>.provider /
    model / base_url, else the main provider): an AuxiliaryResponse with the
    client used as .client; RuntimeError when no client can be built."""
    cfg = _task_config(task)
    provider = provider or str(cfg.get("provider") or "auto")
    model = model or cfg.get("model") or None
    base_url = base_url or cfg.get("base_url") or None
    if base_url:
        client, model = resolve_provider_client("custom", model or _read_main_model(), explicit_base_url=base_url,
                                                explicit_api_key=api_key or cfg.get("api_key"))
    else:
        client, model = resolve_provider_client(provider, model, explicit_api_key=api_key, main_runtime=main_runtime,
                                                task=task)
    if client is None:
        raise RuntimeError(f"no auxiliary client for task {task!r} (provider {provider})")
    response = client.chat.completions.create(model=model, messages=messages or [], max_tokens=max_tokens)
    response.client = client
    return response
