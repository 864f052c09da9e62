"""Stand-in for hermes_cli/runtime_provider.py: resolve_runtime_provider, with
Hermes's order of decisions for anthropic, openai-codex, openai-api,
openrouter and custom endpoints:

1. the provider asked for (requested), else config.yaml model.provider, else
   $HERMES_INFERENCE_PROVIDER, else "auto";
2. a named custom provider (custom_providers / providers in config.yaml);
3. no explicit key or URL, a model.base_url and no model.provider (or
   "auto"), the URL not on openrouter.ai / anthropic.com / openai.com: the
   OpenAI-compatible resolver, whatever was requested. It uses model.base_url
   only for requested "auto" (labelled provider "openrouter") or "custom";
   any named provider (anthropic too) gets https://openrouter.ai/api/v1;
4. otherwise the provider id (auth.resolve_provider), an explicit key or URL,
   then the credential pool's selected entry: anthropic takes model.base_url
   only when model.provider is anthropic and the host is Anthropic's, Azure's
   or the path ends in /anthropic, else the entry's URL; openai-codex always
   the entry's URL (model.base_url is not read); openai-api takes
   model.base_url when model.provider is openai-api and the entry holds the
   official URL; then the fall-backs outside the pool.
"""
import os
from urllib.parse import urlparse

from agent.credential_pool import credential_pool_matches_provider, load_pool
from hermes_cli import _standin
from hermes_cli.auth import (
    DEFAULT_CODEX_BASE_URL,
    PROVIDER_REGISTRY,
    AuthError,
    has_usable_secret,
    resolve_api_key_provider_credentials,
    resolve_codex_runtime_credentials,
    resolve_provider,
)
from hermes_cli.config import load_config
from hermes_constants import OPENROUTER_BASE_URL
from utils import base_url_host_matches, base_url_hostname

_VALID_API_MODES = {"chat_completions", "codex_responses", "anthropic_messages", "bedrock_converse",
                    "codex_app_server"}


def _parse_api_mode(raw):
    if isinstance(raw, str) and raw.strip().lower() in _VALID_API_MODES:
        return raw.strip().lower()
    return None


def _get_model_config():
    model = load_config().get("model")
    if isinstance(model, dict):
        cfg = dict(model)
        if not cfg.get("default") and cfg.get("model"):
            cfg["default"] = cfg["model"]
        return cfg
    if isinstance(model, str) and model.strip():
        return {"default": model.strip()}
    return {}


def _detect_api_mode_for_url(base_url):
    """api.openai.com / api.x.ai: codex_responses; api.anthropic.com, a path
    ending in /anthropic (or /anthropic/v1), api.kimi.com/coding:
    anthropic_messages; else None."""
    host = base_url_hostname(base_url)
    if host in ("api.openai.com", "api.x.ai"):
        return "codex_responses"
    if host == "api.anthropic.com":
        return "anthropic_messages"
    path = urlparse((base_url or "").strip().lower().rstrip("/")).path.rstrip("/")
    if path.endswith("/anthropic") or path.endswith("/anthropic/v1"):
        return "anthropic_messages"
    if host == "api.kimi.com" and "/coding" in (base_url or "").lower():
        return "anthropic_messages"
    return None


def _anthropic_base_url_override_ok(base_url):
    """Whether model.base_url may serve native anthropic: an Anthropic or
    Claude host, an Azure host, or a URL that speaks the Messages API by its
    path (/anthropic)."""
    host = base_url_hostname(base_url)
    if not host:
        return False
    if host == "api.anthropic.com" or host.endswith(".anthropic.com") or host.endswith(".claude.com"):
        return True
    if host.endswith(".azure.com"):
        return True
    return _detect_api_mode_for_url(base_url) == "anthropic_messages"


def _loopback_hostname(host):
    return (host or "").lower().rstrip(".") in {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def _host_derived_api_key(base_url):
    """<VENDOR>_API_KEY from the URL's host (api.deepseek.com: DEEPSEEK_API_KEY);
    nothing for addresses, localhost and OpenAI / OpenRouter / Ollama."""
    host = base_url_hostname(base_url)
    if not host or any(c.isdigit() for c in host.split(".")[-1]) or host == "localhost" or ":" in host:
        return ""
    labels = [x for x in host.split(".") if x]
    while labels and labels[0] in ("api", "www"):
        labels.pop(0)
    if len(labels) < 2:
        return ""
    vendor = "".join(c if c.isalnum() else "_" for c in labels[-2]).upper()
    if not vendor or not vendor[0].isalpha() or vendor in ("OPENAI", "OPENROUTER", "OLLAMA"):
        return ""
    return os.getenv(vendor + "_API_KEY", "").strip()


def resolve_requested_provider(requested=None):
    if requested and requested.strip():
        return requested.strip().lower()
    cfg = _get_model_config().get("provider")
    if isinstance(cfg, str) and cfg.strip():
        return cfg.strip().lower()
    env = os.getenv("HERMES_INFERENCE_PROVIDER", "").strip().lower()
    return env or "auto"


def _custom_alias(requested_norm):
    if requested_norm and requested_norm != "custom":
        try:
            if resolve_provider(requested_norm) == "custom":
                return "custom"
        except Exception:
            pass
    return requested_norm


def _config_base_url_trustworthy_for_bare_custom(cfg_base_url, cfg_provider):
    if not (cfg_base_url or "").strip():
        return False
    if _custom_alias((cfg_provider or "").strip().lower()) == "custom":
        return True
    if base_url_host_matches(cfg_base_url, "openrouter.ai"):
        return False
    return _loopback_hostname(base_url_hostname(cfg_base_url))


def _resolve_openrouter_runtime(*, requested_provider, explicit_api_key=None, explicit_base_url=None):
    """The OpenAI-compatible resolver (OpenRouter, or a custom endpoint)."""
    model = _get_model_config()
    cfg_base_url = model.get("base_url") if isinstance(model.get("base_url"), str) else ""
    cfg_provider = (model.get("provider") if isinstance(model.get("provider"), str) else "").strip().lower()
    cfg_api_key = next((model[k].strip() for k in ("api_key", "api")
                        if isinstance(model.get(k), str) and model[k].strip()), "")
    requested_norm = _custom_alias((requested_provider or "").strip().lower())
    use_cfg = False
    if cfg_base_url.strip() and not explicit_base_url:
        if requested_norm == "auto":
            use_cfg = not cfg_provider or cfg_provider == "auto"
        elif requested_norm == "custom":
            use_cfg = _config_base_url_trustworthy_for_bare_custom(cfg_base_url, cfg_provider)
    env_or = os.getenv("OPENROUTER_BASE_URL", "").strip()
    base_url = ((explicit_base_url or "").strip() or os.getenv("CUSTOM_BASE_URL", "").strip()
                or (cfg_base_url.strip() if use_cfg else "") or env_or or OPENROUTER_BASE_URL).rstrip("/")
    is_or = base_url_host_matches(base_url, "openrouter.ai")
    if is_or or (requested_norm == "openrouter" and env_or and base_url == env_or.rstrip("/")):
        candidates = [explicit_api_key, os.getenv("OPENROUTER_API_KEY"), os.getenv("OPENAI_API_KEY")]
    else:
        is_openai = base_url_host_matches(base_url, "openai.com") or base_url_host_matches(base_url, "openai.azure.com")
        candidates = [explicit_api_key, cfg_api_key if use_cfg else "",
                      os.getenv("OLLAMA_API_KEY") if base_url_host_matches(base_url, "ollama.com") else "",
                      os.getenv("OPENAI_API_KEY") if is_openai else "",
                      _host_derived_api_key(base_url)]
    api_key = next((str(c).strip() for c in candidates if has_usable_secret(c)), "")
    provider = "custom" if requested_norm == "custom" else "openrouter"
    if provider == "custom" and not api_key and not is_or:
        api_key = "no-key-required"
    if provider == "custom":
        mode = _parse_api_mode(model.get("api_mode"))
        detected = _detect_api_mode_for_url(base_url)
        if mode == "codex_responses" and detected != "codex_responses":
            mode = None
        api_mode = mode or detected or "chat_completions"
    else:
        api_mode = _parse_api_mode(model.get("api_mode")) or _detect_api_mode_for_url(base_url) or "chat_completions"
    return {"provider": provider, "api_mode": api_mode, "base_url": base_url, "api_key": api_key,
            "source": "explicit" if (explicit_api_key or explicit_base_url) else "env/config"}


def _get_named_custom_provider(requested_provider):
    """A custom endpoint of config.yaml named so (custom_providers, or
    providers with a URL); never for a built-in provider id."""
    norm = (requested_provider or "").strip().lower().replace(" ", "-")
    if not norm or norm == "auto":
        return None
    if norm != "custom" and not norm.startswith("custom:"):
        try:
            if resolve_provider(norm) == norm:
                return None
        except AuthError:
            pass
    config = load_config()
    providers = config.get("providers")
    for name, entry in (providers.items() if isinstance(providers, dict) else ()):
        key = str(name).strip().lower().replace(" ", "-")
        url = entry.get("api") or entry.get("url") or entry.get("base_url") if isinstance(entry, dict) else None
        if url and norm in {name, key, "custom:" + key}:
            return {"name": entry.get("name", name), "base_url": str(url).strip(), "api_key": entry.get("api_key", ""),
                    "model": entry.get("default_model", ""), "api_mode": _parse_api_mode(entry.get("api_mode"))}
    for entry in config.get("custom_providers") or ():
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            key = entry["name"].strip().lower().replace(" ", "-")
            if norm in {key, "custom:" + key}:
                return entry
    return None


def _resolve_named_custom_runtime(*, requested_provider, explicit_api_key=None, explicit_base_url=None):
    norm = _custom_alias((requested_provider or "").strip().lower())
    if norm == "custom" and explicit_base_url:
        base_url = explicit_base_url.strip().rstrip("/")
        key = next((c for c in ((explicit_api_key or "").strip(), _host_derived_api_key(base_url))
                    if has_usable_secret(c)), "") or "no-key-required"
        return {"provider": "custom", "api_mode": _detect_api_mode_for_url(base_url) or "chat_completions",
                "base_url": base_url, "api_key": key, "source": "direct-alias", "requested_provider": requested_provider}
    custom = _get_named_custom_provider(requested_provider)
    if not custom:
        return None
    base_url = ((explicit_base_url or "").strip() or custom.get("base_url", "")).rstrip("/")
    if not base_url:
        return None
    key = next((str(c).strip() for c in ((explicit_api_key or ""), custom.get("api_key", ""),
                                         os.getenv(str(custom.get("key_env") or ""), "") if custom.get("key_env") else "",
                                         _host_derived_api_key(base_url)) if has_usable_secret(c)), "")
    result = {"provider": "custom",
              "api_mode": custom.get("api_mode") or _detect_api_mode_for_url(base_url) or "chat_completions",
              "base_url": base_url, "api_key": key or "no-key-required",
              "source": f"custom_provider:{custom.get('name', requested_provider)}"}
    if custom.get("model"):
        result["model"] = custom["model"]
    return result


def _resolve_runtime_from_pool_entry(*, provider, entry, requested_provider, model_cfg=None, pool=None,
                                     target_model=None):
    model_cfg = model_cfg or _get_model_config()
    base_url = (getattr(entry, "runtime_base_url", None) or getattr(entry, "base_url", None) or "").rstrip("/")
    api_key = getattr(entry, "runtime_api_key", None) or getattr(entry, "access_token", "")
    cfg_provider = str(model_cfg.get("provider") or "").strip().lower()
    api_mode = "chat_completions"
    if provider == "openai-codex":
        api_mode = "codex_responses"
        base_url = base_url or DEFAULT_CODEX_BASE_URL
    elif provider == "anthropic":
        api_mode = "anthropic_messages"
        cfg_base = ""
        if cfg_provider == "anthropic":
            cfg_base = str(model_cfg.get("base_url") or "").strip().rstrip("/")
            if not _anthropic_base_url_override_ok(cfg_base):
                cfg_base = ""
        base_url = cfg_base or base_url or "https://api.anthropic.com"
    elif provider == "openrouter":
        base_url = base_url or OPENROUTER_BASE_URL
    else:
        pconfig = PROVIDER_REGISTRY.get(provider)
        if pconfig and cfg_provider == provider and base_url.rstrip("/") == pconfig.inference_base_url.rstrip("/"):
            cfg_base = str(model_cfg.get("base_url") or "").strip().rstrip("/")
            if cfg_base:
                base_url = cfg_base
        configured = _parse_api_mode(model_cfg.get("api_mode"))
        if configured and (not cfg_provider or cfg_provider == provider):
            api_mode = configured
        else:
            api_mode = _detect_api_mode_for_url(base_url) or api_mode
    if provider in ("openai", "openai-codex") and \
            str(model_cfg.get("openai_runtime") or "").strip().lower() == "codex_app_server":
        api_mode = "codex_app_server"
    return {"provider": provider, "api_mode": api_mode, "base_url": base_url, "api_key": api_key,
            "source": getattr(entry, "source", "pool"), "credential_pool": pool,
            "requested_provider": requested_provider}


def _resolve_explicit_runtime(*, provider, requested_provider, model_cfg, explicit_api_key=None,
                              explicit_base_url=None):
    explicit_api_key = str(explicit_api_key or "").strip()
    explicit_base_url = str(explicit_base_url or "").strip().rstrip("/")
    if not explicit_api_key and not explicit_base_url:
        return None
    if provider == "anthropic":
        cfg_base = ""
        if str(model_cfg.get("provider") or "").strip().lower() == "anthropic":
            cfg_base = str(model_cfg.get("base_url") or "").strip().rstrip("/")
            if not _anthropic_base_url_override_ok(cfg_base):
                cfg_base = ""
        api_key = explicit_api_key
        if not api_key:
            from agent.anthropic_adapter import resolve_anthropic_token

            api_key = resolve_anthropic_token()
            if not api_key:
                raise AuthError("No Anthropic credentials found. Set ANTHROPIC_TOKEN or ANTHROPIC_API_KEY.")
        return {"provider": "anthropic", "api_mode": "anthropic_messages",
                "base_url": explicit_base_url or cfg_base or "https://api.anthropic.com", "api_key": api_key,
                "source": "explicit", "requested_provider": requested_provider}
    if provider == "openai-codex":
        base_url, api_key, last_refresh = explicit_base_url or DEFAULT_CODEX_BASE_URL, explicit_api_key, None
        if not api_key:
            creds = resolve_codex_runtime_credentials()
            api_key, last_refresh = creds.get("api_key", ""), creds.get("last_refresh")
            if not explicit_base_url:
                base_url = creds.get("base_url", "").rstrip("/") or base_url
        return {"provider": "openai-codex", "api_mode": "codex_responses", "base_url": base_url, "api_key": api_key,
                "source": "explicit", "last_refresh": last_refresh, "requested_provider": requested_provider}
    pconfig = PROVIDER_REGISTRY.get(provider)
    if pconfig and pconfig.auth_type == "api_key":
        env_url = os.getenv(pconfig.base_url_env_var, "").strip().rstrip("/") if pconfig.base_url_env_var else ""
        base_url = explicit_base_url or env_url or pconfig.inference_base_url
        api_key = explicit_api_key or resolve_api_key_provider_credentials(provider).get("api_key", "")
        api_mode = _parse_api_mode(model_cfg.get("api_mode")) or _detect_api_mode_for_url(base_url) or "chat_completions"
        return {"provider": provider, "api_mode": api_mode, "base_url": base_url.rstrip("/"), "api_key": api_key,
                "source": "explicit", "requested_provider": requested_provider}
    return None


def resolve_runtime_provider(*, requested=None, explicit_api_key=None, explicit_base_url=None, target_model=None):
    """provider, api_mode, base_url, api_key, source, requested_provider (and
    credential_pool when the pool decided) for the next request."""
    requested_provider = resolve_requested_provider(requested)

    custom = _resolve_named_custom_runtime(requested_provider=requested_provider, explicit_api_key=explicit_api_key,
                                           explicit_base_url=explicit_base_url)
    if custom:
        custom["requested_provider"] = requested_provider
        return custom

    if not explicit_base_url and not explicit_api_key:
        model_cfg = _get_model_config()
        cfg_provider = str(model_cfg.get("provider") or "").strip().lower()
        cfg_base_url = str(model_cfg.get("base_url") or "").strip()
        if cfg_base_url and cfg_provider in ("auto", "") and not any(
                base_url_host_matches(cfg_base_url, h) for h in ("openrouter.ai", "anthropic.com", "openai.com")):
            runtime = _resolve_openrouter_runtime(requested_provider=requested_provider,
                                                  explicit_api_key=explicit_api_key,
                                                  explicit_base_url=explicit_base_url)
            runtime["requested_provider"] = requested_provider
            return runtime

    provider = resolve_provider(requested_provider, explicit_api_key=explicit_api_key,
                                explicit_base_url=explicit_base_url)
    model_cfg = _get_model_config()
    explicit = _resolve_explicit_runtime(provider=provider, requested_provider=requested_provider, model_cfg=model_cfg,
                                         explicit_api_key=explicit_api_key, explicit_base_url=explicit_base_url)
    if explicit:
        return explicit

    use_pool = provider != "openrouter"
    if provider == "openrouter":
        cfg_provider = str(model_cfg.get("provider") or "").strip().lower()
        custom_endpoint = bool(explicit_base_url or os.getenv("OPENAI_BASE_URL", "").strip()
                               or os.getenv("OPENROUTER_BASE_URL", "").strip())
        if str(model_cfg.get("base_url") or "").strip() and cfg_provider in ("auto", "custom"):
            custom_endpoint = True
        use_pool = requested_provider in ("openrouter", "auto") and not custom_endpoint and \
            not (explicit_api_key or explicit_base_url)
    try:
        pool = load_pool(provider) if use_pool else None
    except Exception:
        pool = None
    if pool and pool.has_credentials():
        entry = pool.select()
        key = (getattr(entry, "runtime_api_key", None) or getattr(entry, "access_token", "")) if entry else ""
        if entry is not None and key and credential_pool_matches_provider(pool, provider):
            return _resolve_runtime_from_pool_entry(provider=provider, entry=entry,
                                                    requested_provider=requested_provider, model_cfg=model_cfg,
                                                    pool=pool, target_model=target_model)

    if provider == "openai-codex":
        try:
            creds = resolve_codex_runtime_credentials()
            return {"provider": "openai-codex", "api_mode": "codex_responses",
                    "base_url": creds.get("base_url", "").rstrip("/"), "api_key": creds.get("api_key", ""),
                    "source": creds.get("source", "hermes-auth-store"), "last_refresh": creds.get("last_refresh"),
                    "requested_provider": requested_provider}
        except AuthError:
            if requested_provider != "auto":
                raise

    if provider == "anthropic":
        cfg_base = ""
        if str(model_cfg.get("provider") or "").strip().lower() == "anthropic":
            cfg_base = str(model_cfg.get("base_url") or "").strip().rstrip("/")
            if not _anthropic_base_url_override_ok(cfg_base):
                cfg_base = ""
        base_url = cfg_base or "https://api.anthropic.com"
        if "azure.com" in base_url.lower():
            token = os.getenv("AZURE_ANTHROPIC_KEY", "").strip() or os.getenv("ANTHROPIC_API_KEY", "").strip()
        else:
            from agent.anthropic_adapter import resolve_anthropic_token

            token = resolve_anthropic_token()
        if not token:
            raise AuthError("No Anthropic credentials found. Set ANTHROPIC_TOKEN or ANTHROPIC_API_KEY, "
                            "run 'claude setup-token', or authenticate with 'claude /login'.")
        return {"provider": "anthropic", "api_mode": "anthropic_messages", "base_url": base_url, "api_key": token,
                "source": "env", "requested_provider": requested_provider}

    pconfig = PROVIDER_REGISTRY.get(provider)
    if pconfig and pconfig.auth_type == "api_key":
        creds = resolve_api_key_provider_credentials(provider)
        if not has_usable_secret(creds.get("api_key")):
            raise AuthError(f"No usable credentials found for provider '{provider}'. "
                            f"Set {', '.join(pconfig.api_key_env_vars)}.", provider=provider, code="missing_api_key")
        cfg_provider = str(model_cfg.get("provider") or "").strip().lower()
        base_url = (str(model_cfg.get("base_url") or "").strip().rstrip("/") if cfg_provider == provider else "") \
            or creds.get("base_url", "").rstrip("/")
        configured = _parse_api_mode(model_cfg.get("api_mode"))
        if configured and (not cfg_provider or cfg_provider == provider):
            api_mode = configured
        else:
            api_mode = _detect_api_mode_for_url(base_url) or "chat_completions"
        return {"provider": provider, "api_mode": api_mode, "base_url": base_url, "api_key": creds.get("api_key", ""),
                "source": creds.get("source", "env"), "requested_provider": requested_provider}

    runtime = _resolve_openrouter_runtime(requested_provider=requested_provider, explicit_api_key=explicit_api_key,
                                          explicit_base_url=explicit_base_url)
    runtime["requested_provider"] = requested_provider
    return runtime


if "runtime" in _standin.omitted():
    del resolve_runtime_provider
