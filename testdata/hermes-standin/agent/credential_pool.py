"""Stand-in for agent/credential_pool.py: PooledCredential, CredentialPool and
load_pool. As in Hermes, load_pool(provider) reads the provider's entries from
auth.json, then calls the module-global _seed_from_singletons(provider,
entries) and then the module-global _seed_from_env(provider, entries), each
returning (changed, sources). Seeded entries get the official base URL on
every load (the env ones: the provider's base-URL variable if set). Then
entries whose borrowed source is gone are pruned, anthropic's priorities are
put in Hermes's order, and when anything changed auth.json is written back
whole, borrowed secrets stripped (see agent.credential_persistence)."""
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, fields, replace
from typing import Any, Dict, List, Optional, Set, Tuple

from agent.credential_persistence import is_borrowed_credential_source, sanitize_borrowed_credential_payload
from hermes_cli import _standin
from hermes_cli.auth import (
    DEFAULT_CODEX_BASE_URL,
    PROVIDER_REGISTRY,
    _decode_jwt_claims,
    _load_auth_store,
    _load_provider_state,
    read_credential_pool,
    write_credential_pool,
)
from hermes_cli.config import load_config_readonly, load_env
from hermes_constants import OPENROUTER_BASE_URL

STATUS_OK = "ok"
STATUS_EXHAUSTED = "exhausted"
STATUS_DEAD = "dead"
AUTH_TYPE_OAUTH = "oauth"
AUTH_TYPE_API_KEY = "api_key"
SOURCE_MANUAL = "manual"
STRATEGY_FILL_FIRST = "fill_first"
STRATEGY_ROUND_ROBIN = "round_robin"
STRATEGY_RANDOM = "random"
STRATEGY_LEAST_USED = "least_used"
SUPPORTED_POOL_STRATEGIES = {STRATEGY_FILL_FIRST, STRATEGY_ROUND_ROBIN, STRATEGY_RANDOM, STRATEGY_LEAST_USED}
EXHAUSTED_TTL_401_SECONDS = 5 * 60
EXHAUSTED_TTL_DEFAULT_SECONDS = 60 * 60
CUSTOM_POOL_PREFIX = "custom:"

# Keys kept in PooledCredential.extra (round-tripped, read as attributes).
_EXTRA_KEYS = frozenset({
    "token_type", "scope", "client_id", "portal_base_url", "obtained_at", "expires_in", "agent_key_id",
    "agent_key_expires_in", "agent_key_reused", "agent_key_obtained_at", "tls", "secret_source",
    "secret_fingerprint",
})
# Emitted by to_dict even when None.
_ALWAYS_EMIT = {"last_status", "last_status_at", "last_error_code", "last_error_reason", "last_error_message",
                "last_error_reset_at"}


def _auth_type_for(provider, token, auth_type):
    if provider == "anthropic" and isinstance(token, str) and token.startswith("sk-ant-oat"):
        return AUTH_TYPE_OAUTH
    return str(auth_type or AUTH_TYPE_API_KEY)


def _epoch(value):
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return value / 1000.0 if value > 1_000_000_000_000 else float(value) if value > 0 else None
    try:
        number = float(value)
        return number / 1000.0 if number > 1_000_000_000_000 else number
    except ValueError:
        pass
    try:
        from datetime import datetime

        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class PooledCredential:
    provider: str
    id: str
    label: str
    auth_type: str
    priority: int
    source: str
    access_token: str
    refresh_token: Optional[str] = None
    last_status: Optional[str] = None
    last_status_at: Optional[float] = None
    last_error_code: Optional[int] = None
    last_error_reason: Optional[str] = None
    last_error_message: Optional[str] = None
    last_error_reset_at: Optional[float] = None
    base_url: Optional[str] = None
    expires_at: Optional[str] = None
    expires_at_ms: Optional[int] = None
    last_refresh: Optional[str] = None
    inference_base_url: Optional[str] = None
    agent_key: Optional[str] = None
    agent_key_expires_at: Optional[str] = None
    request_count: int = 0
    extra: Dict[str, Any] = None

    def __post_init__(self):
        if self.extra is None:
            self.extra = {}
        self.auth_type = _auth_type_for(self.provider, self.access_token, self.auth_type)

    def __getattr__(self, name):
        if name in _EXTRA_KEYS:
            return self.extra.get(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    @classmethod
    def from_dict(cls, provider, payload):
        """An entry from its auth.json form: known fields, the _EXTRA_KEYS in
        extra; any other key is dropped (and so lost at the next write)."""
        names = {f.name for f in fields(cls) if f.name != "provider"}
        data = {k: payload.get(k) for k in names if k in payload}
        if isinstance(data.get("last_status_at"), str):
            data["last_status_at"] = _epoch(data["last_status_at"])
        data["extra"] = {k: payload[k] for k in _EXTRA_KEYS if payload.get(k) is not None}
        data.setdefault("id", uuid.uuid4().hex[:6])
        data.setdefault("label", payload.get("source", provider))
        data.setdefault("auth_type", AUTH_TYPE_API_KEY)
        data.setdefault("priority", 0)
        data.setdefault("source", SOURCE_MANUAL)
        data.setdefault("access_token", "")
        return cls(provider=provider, **data)

    def to_dict(self):
        out = {}
        for f in fields(self):
            if f.name in ("provider", "extra"):
                continue
            value = getattr(self, f.name)
            if value is not None or f.name in _ALWAYS_EMIT:
                out[f.name] = value
        out.update({k: v for k, v in self.extra.items() if v is not None})
        return sanitize_borrowed_credential_payload(out, self.provider)

    @property
    def runtime_api_key(self):
        return str(self.access_token or "")

    @property
    def runtime_base_url(self):
        if self.provider == "nous":
            return self.inference_base_url or self.base_url
        return self.base_url


def label_from_token(token, fallback):
    claims = _decode_jwt_claims(token)
    for key in ("email", "preferred_username", "upn"):
        if isinstance(claims.get(key), str) and claims[key].strip():
            return claims[key].strip()
    return fallback


def _next_priority(entries):
    return max((e.priority for e in entries), default=-1) + 1


def _is_manual_source(source):
    s = (source or "").strip().lower()
    return s == SOURCE_MANUAL or s.startswith(SOURCE_MANUAL + ":")


def get_pool_strategy(provider):
    strategies = load_config_readonly().get("credential_pool_strategies")
    strategy = str((strategies or {}).get(provider, "") or "").strip().lower() if isinstance(strategies, dict) else ""
    return strategy if strategy in SUPPORTED_POOL_STRATEGIES else STRATEGY_FILL_FIRST


def credential_pool_matches_provider(pool_or_provider, provider, *, base_url=None):
    pool_provider = str(getattr(pool_or_provider, "provider", pool_or_provider) or "").strip().lower()
    return bool(pool_provider) and pool_provider == str(provider or "").strip().lower()


class CredentialPool:
    def __init__(self, provider, entries):
        self.provider = provider
        self._entries = sorted(entries, key=lambda e: e.priority)
        self._current_id = None
        self._strategy = get_pool_strategy(provider)
        self._lock = threading.Lock()

    def has_credentials(self):
        return bool(self._entries)

    def has_available(self):
        return bool(self._available_entries())

    def entries(self):
        return list(self._entries)

    def current(self):
        if not self._current_id:
            return None
        return next((e for e in self._entries if e.id == self._current_id), None)

    def _persist(self):
        write_credential_pool(self.provider, [e.to_dict() for e in self._entries])

    def _available_entries(self, *, clear_expired=False):
        """Entries usable now: not an api_key entry without its secret (a
        borrowed one whose source is gone), not dead, not cooling down."""
        now, out, cleared = time.time(), [], False
        for entry in self._entries:
            if entry.auth_type == AUTH_TYPE_API_KEY and not entry.runtime_api_key:
                continue
            if entry.last_status == STATUS_DEAD:
                continue
            if entry.last_status == STATUS_EXHAUSTED:
                until = _epoch(entry.last_error_reset_at)
                if until is None and entry.last_status_at:
                    ttl = EXHAUSTED_TTL_401_SECONDS if entry.last_error_code == 401 else EXHAUSTED_TTL_DEFAULT_SECONDS
                    until = entry.last_status_at + ttl
                if until is not None and now < until:
                    continue
                if clear_expired:
                    fresh = replace(entry, last_status=STATUS_OK, last_status_at=None, last_error_code=None,
                                    last_error_reason=None, last_error_message=None, last_error_reset_at=None)
                    self._entries = [fresh if e.id == entry.id else e for e in self._entries]
                    entry, cleared = fresh, True
            out.append(entry)
        if cleared:
            self._persist()
        return out

    def select(self):
        with self._lock:
            available = self._available_entries(clear_expired=True)
            if not available:
                self._current_id = None
                return None
            if self._strategy == STRATEGY_RANDOM:
                entry = random.choice(available)
            elif self._strategy == STRATEGY_LEAST_USED and len(available) > 1:
                entry = min(available, key=lambda e: e.request_count)
                entry = replace(entry, request_count=entry.request_count + 1)
                self._entries = [entry if e.id == entry.id else e for e in self._entries]
            elif self._strategy == STRATEGY_ROUND_ROBIN and len(available) > 1:
                entry = available[0]
                rest = [e for e in self._entries if e.id != entry.id] + [entry]
                self._entries = [replace(e, priority=i) for i, e in enumerate(rest)]
                self._persist()
            else:
                entry = available[0]
            self._current_id = entry.id
            return self.current() or entry

    def peek(self):
        current = self.current()
        if current is not None:
            return current
        available = self._available_entries()
        return available[0] if available else None

    def add_entry(self, entry):
        entry = replace(entry, priority=_next_priority(self._entries))
        self._entries.append(entry)
        self._persist()
        return entry


def _upsert_entry(entries, provider, source, payload):
    """The entry of this source made from payload: added, or the existing one
    updated field by field (id, priority and an existing label kept); other
    entries of the same source dropped. Whether the disk form changed."""
    matching = [i for i, e in enumerate(entries) if e.source == source]
    duplicates = set(matching[1:])
    if duplicates:
        entries[:] = [e for i, e in enumerate(entries) if i not in duplicates]
    if not matching:
        payload.setdefault("id", uuid.uuid4().hex[:6])
        payload.setdefault("priority", _next_priority(entries))
        payload.setdefault("label", payload.get("label") or source)
        entries.append(PooledCredential.from_dict(provider, payload))
        return True
    index = matching[0]
    existing = entries[index]
    names = {f.name for f in fields(existing)}
    updates, extra = {}, {}
    for key, value in payload.items():
        if key in ("id", "priority") or value is None or (key == "label" and existing.label):
            continue
        if key in names:
            if getattr(existing, key) != value:
                updates[key] = value
        elif key in _EXTRA_KEYS and existing.extra.get(key) != value:
            extra[key] = value
    if not updates and not extra:
        return bool(duplicates)
    if extra:
        updates["extra"] = {**existing.extra, **extra}
    updated = replace(existing, **updates)
    entries[index] = updated
    return bool(duplicates) or existing.to_dict() != updated.to_dict()


def _normalize_pool_priorities(provider, entries):
    """anthropic: manual entries first, then the seeded ones in Hermes's order
    (env:ANTHROPIC_TOKEN, env:CLAUDE_CODE_OAUTH_TOKEN, hermes_pkce,
    claude_code, env:ANTHROPIC_API_KEY)."""
    if provider != "anthropic":
        return False
    rank = {"env:ANTHROPIC_TOKEN": 0, "env:CLAUDE_CODE_OAUTH_TOKEN": 1, "hermes_pkce": 2, "claude_code": 3,
            "env:ANTHROPIC_API_KEY": 4}
    manual = sorted((e for e in entries if _is_manual_source(e.source)), key=lambda e: e.priority)
    seeded = sorted((e for e in entries if not _is_manual_source(e.source)),
                    key=lambda e: (rank.get(e.source, len(rank)), e.priority, e.label))
    where = {e.id: i for i, e in enumerate(entries)}
    changed = False
    for priority, entry in enumerate(manual + seeded):
        if entry.priority != priority:
            entries[where[entry.id]] = replace(entry, priority=priority)
            changed = True
    return changed


def _suppressed(provider, source):
    try:
        from hermes_cli.auth import is_source_suppressed
    except ImportError:
        return False
    return is_source_suppressed(provider, source)


def _env_value(key):
    """$HERMES_HOME/.env's value first, then the process environment's."""
    from_file = load_env().get(key, "").strip()
    from_env = os.environ.get(key, "").strip()
    if from_file.startswith("op://") and from_env:
        return from_env
    return from_file or from_env


def _seed_from_singletons(provider: str, entries: List[PooledCredential]) -> Tuple[bool, Set[str]]:
    """Entries from single logins. anthropic: Hermes's own OAuth file and
    Claude Code's credentials file, only when anthropic is explicitly
    configured and the API-key path was not chosen (ANTHROPIC_API_KEY set and
    no OAuth token in .env / the environment: then those entries are removed).
    openai-codex: the device-code login in auth.json providers["openai-codex"],
    with the chatgpt URL."""
    changed, sources = False, set()
    if provider == "anthropic":
        from hermes_cli.auth import is_provider_explicitly_configured

        if not is_provider_explicitly_configured("anthropic"):
            return changed, sources
        api_key = _env_value("ANTHROPIC_API_KEY")
        oauth = _env_value("ANTHROPIC_TOKEN") or _env_value("CLAUDE_CODE_OAUTH_TOKEN")
        if api_key and not oauth:
            kept = [e for e in entries if e.source not in ("hermes_pkce", "claude_code")]
            if len(kept) != len(entries):
                entries[:] = kept
                changed = True
            return changed, sources
        from agent.anthropic_adapter import read_claude_code_credentials, read_hermes_oauth_credentials

        for source, creds in (("hermes_pkce", read_hermes_oauth_credentials()),
                              ("claude_code", read_claude_code_credentials())):
            if not creds or not creds.get("accessToken") or _suppressed(provider, source):
                continue
            sources.add(source)
            changed |= _upsert_entry(entries, provider, source, {
                "source": source, "auth_type": AUTH_TYPE_OAUTH, "access_token": creds.get("accessToken", ""),
                "refresh_token": creds.get("refreshToken"), "expires_at_ms": creds.get("expiresAt"),
                "label": label_from_token(creds.get("accessToken", ""), source)})
    elif provider == "openai-codex":
        if _suppressed(provider, "device_code"):
            return changed, sources
        state = _load_provider_state(_load_auth_store(), "openai-codex")
        tokens = state.get("tokens") if isinstance(state, dict) else None
        if isinstance(tokens, dict) and tokens.get("access_token"):
            sources.add("device_code")
            label = str(state.get("label") or "").strip()
            changed |= _upsert_entry(entries, provider, "device_code", {
                "source": "device_code", "auth_type": AUTH_TYPE_OAUTH, "access_token": tokens.get("access_token", ""),
                "refresh_token": tokens.get("refresh_token"), "base_url": DEFAULT_CODEX_BASE_URL,
                "last_refresh": state.get("last_refresh"),
                "label": label or label_from_token(tokens.get("access_token", ""), "device_code")})
    return changed, sources


def _seed_from_env(provider: str, entries: List[PooledCredential]) -> Tuple[bool, Set[str]]:
    """Entries from keys in $HERMES_HOME/.env or the environment (the file
    wins), re-created on every load with the provider's base-URL variable or
    its official URL: env:OPENROUTER_API_KEY; for anthropic ANTHROPIC_TOKEN,
    CLAUDE_CODE_OAUTH_TOKEN, ANTHROPIC_API_KEY; for openai-api OPENAI_API_KEY.
    (openai-codex has none: its login is not an API key.)"""
    changed, sources = False, set()

    def payload(source, var, token, base_url):
        return {"source": source, "auth_type": AUTH_TYPE_API_KEY, "access_token": token, "base_url": base_url,
                "label": var}

    if provider == "openrouter":
        token = _env_value("OPENROUTER_API_KEY")
        if token and not _suppressed(provider, "env:OPENROUTER_API_KEY"):
            sources.add("env:OPENROUTER_API_KEY")
            changed |= _upsert_entry(entries, provider, "env:OPENROUTER_API_KEY",
                                     payload("env:OPENROUTER_API_KEY", "OPENROUTER_API_KEY", token, OPENROUTER_BASE_URL))
        return changed, sources
    pconfig = PROVIDER_REGISTRY.get(provider)
    if not pconfig or pconfig.auth_type != AUTH_TYPE_API_KEY:
        return changed, sources
    env_url = _env_value(pconfig.base_url_env_var).rstrip("/") if pconfig.base_url_env_var else ""
    names = ["ANTHROPIC_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY"] if provider == "anthropic" \
        else list(pconfig.api_key_env_vars)
    for var in names:
        token = _env_value(var)
        source = "env:" + var
        if not token or _suppressed(provider, source):
            continue
        sources.add(source)
        changed |= _upsert_entry(entries, provider, source,
                                 payload(source, var, token, env_url or pconfig.inference_base_url))
    return changed, sources


def _prune_stale_seeded_entries(entries, active_sources, *, prune_env_sources=True):
    """Drops entries whose borrowed source (not env:*, unless asked) or
    hermes_pkce login is gone; manual entries always stay."""
    def prunable(entry):
        if entry.source.startswith("env:"):
            return prune_env_sources
        return is_borrowed_credential_source(entry.source, entry.provider) or entry.source == "hermes_pkce"

    kept = [e for e in entries if _is_manual_source(e.source) or e.source in active_sources or not prunable(e)]
    if len(kept) == len(entries):
        return False
    entries[:] = kept
    return True


def load_pool(provider: str) -> CredentialPool:
    provider = (provider or "").strip().lower()
    raw = read_credential_pool(provider)
    disk_ids = {r.get("id") for r in raw if isinstance(r, dict) and r.get("id")}
    needs_sanitizing = any(isinstance(r, dict) and sanitize_borrowed_credential_payload(r, provider) != r for r in raw)
    needs_auth_type = any(isinstance(r, dict) and _auth_type_for(provider, r.get("access_token"),
                                                                 r.get("auth_type", AUTH_TYPE_API_KEY))
                          != r.get("auth_type", AUTH_TYPE_API_KEY) for r in raw)
    entries = [PooledCredential.from_dict(provider, r) for r in raw if isinstance(r, dict)]
    changed = needs_sanitizing or needs_auth_type
    sources = set()
    # Looked up here, at each load, so that whoever rebinds these module
    # globals is called; a name left out (HERMES_STANDIN_OMIT) is skipped.
    for seeder in ("_seed_from_singletons", "_seed_from_env"):
        seed = globals().get(seeder)
        if seed is not None:
            seeded_changed, seeded_sources = seed(provider, entries)
            changed = changed or seeded_changed
            sources |= set(seeded_sources or ())
    changed |= _prune_stale_seeded_entries(entries, sources, prune_env_sources=False)
    changed |= _normalize_pool_priorities(provider, entries)
    if changed:
        write_credential_pool(provider, [e.to_dict() for e in sorted(entries, key=lambda e: e.priority)],
                              removed_ids=disk_ids - {e.id for e in entries})
    return CredentialPool(provider, entries)


for _name in ("seed", "seed_env"):
    if _name in _standin.omitted():
        del globals()["_seed_from_singletons" if _name == "seed" else "_seed_from_env"]
