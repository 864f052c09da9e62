"""Stand-in for hermes_cli/auth.py: the provider registry (the providers hr
routes), the auth store ($HERMES_HOME/auth.json: read, and written whole
under an exclusive flock on auth.lock), and the checks the credential pool's
seeders use."""
import fcntl
import json
import os
import stat
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

from agent.credential_persistence import sanitize_borrowed_credential_payload
from hermes_cli import _standin
from hermes_constants import get_hermes_home

AUTH_STORE_VERSION = 1
AUTH_LOCK_TIMEOUT_SECONDS = 15.0
DEFAULT_CODEX_BASE_URL = "https://chatgpt.com/backend-api/codex"


class AuthError(RuntimeError):
    def __init__(self, message, *, provider=None, code=None, relogin_required=False):
        super().__init__(message)
        self.provider = provider
        self.code = code
        self.relogin_required = relogin_required


@dataclass
class ProviderConfig:
    id: str
    name: str
    auth_type: str
    portal_base_url: str = ""
    inference_base_url: str = ""
    client_id: str = ""
    scope: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)
    api_key_env_vars: tuple = ()
    base_url_env_var: str = ""


# Hermes's registry has some forty providers; these are the ones hr routes,
# in Hermes's order. OpenRouter is not in it (Hermes treats it apart).
PROVIDER_REGISTRY: Dict[str, ProviderConfig] = {
    "openai-codex": ProviderConfig(id="openai-codex", name="OpenAI Codex", auth_type="oauth_external",
                                   inference_base_url=DEFAULT_CODEX_BASE_URL),
    "openai-api": ProviderConfig(id="openai-api", name="OpenAI API", auth_type="api_key",
                                 inference_base_url="https://api.openai.com/v1",
                                 api_key_env_vars=("OPENAI_API_KEY",), base_url_env_var="OPENAI_BASE_URL"),
    "anthropic": ProviderConfig(id="anthropic", name="Anthropic", auth_type="api_key",
                                inference_base_url="https://api.anthropic.com",
                                api_key_env_vars=("ANTHROPIC_API_KEY", "ANTHROPIC_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
                                base_url_env_var="ANTHROPIC_BASE_URL"),
}

_ALIASES = {"claude": "anthropic", "claude-code": "anthropic", "ollama": "custom", "vllm": "custom",
            "llamacpp": "custom", "llama.cpp": "custom", "llama-cpp": "custom"}

_PLACEHOLDERS = {"*", "**", "***", "changeme", "your_api_key", "your_api_key_here", "your-api-key",
                 "placeholder", "example", "dummy", "null", "none"}


def has_usable_secret(value, *, min_length=4):
    if not isinstance(value, str):
        return False
    cleaned = value.strip()
    return len(cleaned) >= min_length and cleaned.lower() not in _PLACEHOLDERS


def _decode_jwt_claims(token):
    claims = _standin.jwt_claims(token)
    return claims if isinstance(claims, dict) else {}


def _codex_access_token_is_expiring(access_token, skew_seconds):
    exp = _decode_jwt_claims(access_token).get("exp")
    if not isinstance(exp, (int, float)):
        return False
    return exp <= time.time() + max(0, int(skew_seconds))


# ---- the auth store -------------------------------------------------------------------


def _auth_file_path() -> Path:
    return get_hermes_home() / "auth.json"


def _auth_lock_path() -> Path:
    return _auth_file_path().with_suffix(".lock")


_lock_depth = threading.local()


@contextmanager
def _auth_store_lock(timeout_seconds=AUTH_LOCK_TIMEOUT_SECONDS):
    """An exclusive flock on auth.lock beside auth.json (re-entrant per thread)."""
    if getattr(_lock_depth, "n", 0):
        _lock_depth.n += 1
        try:
            yield
        finally:
            _lock_depth.n -= 1
        return
    path = _auth_lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as lock:
        deadline = time.monotonic() + max(1.0, timeout_seconds)
        while True:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise TimeoutError("Timed out waiting for auth store lock")
                time.sleep(0.05)
        _lock_depth.n = 1
        try:
            yield
        finally:
            _lock_depth.n = 0
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _load_auth_store(auth_file=None):
    path = Path(auth_file) if auth_file else _auth_file_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": AUTH_STORE_VERSION, "providers": {}}
    except (OSError, ValueError):
        return {"version": AUTH_STORE_VERSION, "providers": {}}
    if isinstance(raw, dict) and (isinstance(raw.get("providers"), dict) or isinstance(raw.get("credential_pool"), dict)):
        raw.setdefault("providers", {})
        return raw
    return {"version": AUTH_STORE_VERSION, "providers": {}}


def _save_auth_store(auth_store, target_path=None):
    """The whole store, indent 2, to a 0600 temporary file renamed over auth.json."""
    path = Path(target_path) if target_path else _auth_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    auth_store["version"] = AUTH_STORE_VERSION
    auth_store["updated_at"] = datetime.now(timezone.utc).isoformat()
    payload = json.dumps(auth_store, indent=2) + "\n"
    tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}.{uuid.uuid4().hex}")
    try:
        fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    except OSError:
        pass
    return path


def _load_provider_state(auth_store, provider_id):
    providers = auth_store.get("providers")
    state = providers.get(provider_id) if isinstance(providers, dict) else None
    return dict(state) if isinstance(state, dict) else None


def get_provider_auth_state(provider_id):
    return _load_provider_state(_load_auth_store(), provider_id)


def get_active_provider():
    return _load_auth_store().get("active_provider")


def read_credential_pool(provider_id=None):
    pool = _load_auth_store().get("credential_pool")
    pool = pool if isinstance(pool, dict) else {}
    if provider_id is None:
        return dict(pool)
    entries = pool.get(provider_id)
    return list(entries) if isinstance(entries, list) else []


def write_credential_pool(provider_id, entries, *, removed_ids=None):
    """One provider's pool into auth.json, borrowed secrets stripped; entries
    another process added meanwhile (on disk, not in entries, not removed) kept."""
    removed = {r for r in (removed_ids or ()) if r}
    with _auth_store_lock():
        store = _load_auth_store()
        pool = store.get("credential_pool")
        if not isinstance(pool, dict):
            pool = store["credential_pool"] = {}
        clean = [sanitize_borrowed_credential_payload(e, provider_id) if isinstance(e, dict) else e for e in entries]
        ids = {e.get("id") for e in clean if isinstance(e, dict) and e.get("id")}
        merged = list(clean)
        for old in pool.get(provider_id) if isinstance(pool.get(provider_id), list) else []:
            if isinstance(old, dict) and old.get("id") and old["id"] not in ids and old["id"] not in removed:
                merged.append(sanitize_borrowed_credential_payload(old, provider_id))
        pool[provider_id] = merged
        return _save_auth_store(store)


def is_source_suppressed(provider_id, source):
    try:
        suppressed = _load_auth_store().get("suppressed_sources", {})
        return source in suppressed.get(provider_id, [])
    except Exception:
        return False


def is_provider_explicitly_configured(provider_id):
    """auth.json active_provider, config.yaml model.provider, a usable key in
    the provider's env vars (CLAUDE_CODE_OAUTH_TOKEN does not count), or a pool
    entry from a flow the user started in Hermes (or an env entry whose
    variable is still set)."""
    wanted = (provider_id or "").strip().lower()
    try:
        if (_load_auth_store().get("active_provider") or "").strip().lower() == wanted and wanted:
            return True
    except Exception:
        pass
    from hermes_cli.config import load_config

    model = load_config().get("model")
    if isinstance(model, dict) and str(model.get("provider") or "").strip().lower() == wanted:
        return True
    pconfig = PROVIDER_REGISTRY.get(wanted)
    if pconfig is None:
        from hermes_cli.providers import get_provider

        pconfig = get_provider(wanted)
    if pconfig and pconfig.auth_type == "api_key":
        for var in pconfig.api_key_env_vars:
            if var != "CLAUDE_CODE_OAUTH_TOKEN" and has_usable_secret(os.getenv(var, "")):
                return True
    for entry in read_credential_pool(wanted):
        source = str(entry.get("source") or "").strip().lower() if isinstance(entry, dict) else ""
        if source.startswith("env:"):
            if has_usable_secret(os.getenv(entry["source"].split(":", 1)[1].strip(), "")):
                return True
        elif source in {"device_code", "loopback_pkce", "hermes_pkce", "manual"} or source.startswith("manual:"):
            return True
    return False


# ---- credentials outside the pool -------------------------------------------------------


def _resolve_api_key_provider_secret(provider_id, pconfig):
    from hermes_cli.config import get_env_value_prefer_dotenv

    for var in pconfig.api_key_env_vars:
        value = (get_env_value_prefer_dotenv(var) or "").strip()
        if has_usable_secret(value):
            return value, var
    try:
        from agent.credential_pool import load_pool

        pool = load_pool(provider_id)
        entry = pool.peek() if pool.has_credentials() else None
        key = str(getattr(entry, "access_token", "") or "").strip() if entry else ""
        if has_usable_secret(key):
            return key, f"credential_pool:{provider_id}"
    except Exception:
        pass
    return "", ""


def resolve_api_key_provider_credentials(provider_id):
    pconfig = PROVIDER_REGISTRY.get(provider_id)
    if not pconfig or pconfig.auth_type != "api_key":
        raise AuthError(f"Provider '{provider_id}' is not an API-key provider.", provider=provider_id,
                        code="invalid_provider")
    api_key, source = _resolve_api_key_provider_secret(provider_id, pconfig)
    env_url = os.getenv(pconfig.base_url_env_var, "").strip() if pconfig.base_url_env_var else ""
    return {"provider": provider_id, "api_key": api_key, "base_url": (env_url or pconfig.inference_base_url).rstrip("/"),
            "source": source or "default"}


def resolve_codex_runtime_credentials(**_):
    """The Codex login in auth.json providers["openai-codex"] (no refresh here),
    else the pool's token."""
    base_url = os.getenv("HERMES_CODEX_BASE_URL", "").strip().rstrip("/") or DEFAULT_CODEX_BASE_URL
    state = get_provider_auth_state("openai-codex") or {}
    tokens = state.get("tokens") if isinstance(state.get("tokens"), dict) else {}
    token = str(tokens.get("access_token") or "").strip()
    if token:
        return {"provider": "openai-codex", "base_url": base_url, "api_key": token, "source": "hermes-auth-store",
                "last_refresh": state.get("last_refresh"), "auth_mode": "chatgpt"}
    from agent.credential_pool import load_pool

    pool = load_pool("openai-codex")
    entry = pool.select() if pool.has_credentials() else None
    if entry is not None and entry.runtime_api_key:
        return {"provider": "openai-codex", "base_url": base_url, "api_key": entry.runtime_api_key,
                "source": "credential_pool", "last_refresh": None, "auth_mode": "chatgpt"}
    raise AuthError("No Codex credentials stored. Run `hermes auth` to authenticate.", provider="openai-codex",
                    code="codex_auth_missing", relogin_required=True)


def _logged_in(provider_id):
    pconfig = PROVIDER_REGISTRY.get(provider_id)
    if pconfig is None:
        return False
    if pconfig.auth_type == "api_key":
        return bool(_resolve_api_key_provider_secret(provider_id, pconfig)[0])
    try:
        return bool(resolve_codex_runtime_credentials().get("api_key")) if provider_id == "openai-codex" else False
    except AuthError:
        return False


def resolve_provider(requested=None, *, explicit_api_key=None, explicit_base_url=None):
    """The provider id for a request; for "auto": config.yaml model.provider,
    then OPENAI_API_KEY / OPENROUTER_API_KEY or an OpenRouter pool
    (openrouter), then a provider's own key, then auth.json active_provider
    when logged in; else AuthError."""
    name = (requested or "auto").strip().lower()
    name = _ALIASES.get(name, name)
    if name in ("openrouter", "custom") or name in PROVIDER_REGISTRY:
        return name
    if name != "auto":
        raise AuthError(f"Unknown provider '{name}'.", code="invalid_provider")
    if explicit_api_key or explicit_base_url:
        return "openrouter"
    from hermes_cli.config import load_config

    model = load_config().get("model")
    if isinstance(model, dict) and str(model.get("provider") or "").strip().lower() in PROVIDER_REGISTRY:
        return str(model["provider"]).strip().lower()
    if has_usable_secret(os.getenv("OPENAI_API_KEY")) or has_usable_secret(os.getenv("OPENROUTER_API_KEY")):
        return "openrouter"
    try:
        from agent.credential_pool import load_pool

        if load_pool("openrouter").has_credentials():
            return "openrouter"
    except Exception:
        pass
    for pid, pconfig in PROVIDER_REGISTRY.items():
        if pconfig.auth_type == "api_key" and any(has_usable_secret(os.getenv(v, "")) for v in pconfig.api_key_env_vars):
            return pid
    active = _load_auth_store().get("active_provider")
    if active in PROVIDER_REGISTRY and _logged_in(active):
        return active
    raise AuthError("No inference provider configured. Run 'hermes model' to choose a provider and model.",
                    code="no_provider_configured")
