"""Stand-in for agent/credential_persistence.py: which pool entries hold a
borrowed secret (one Hermes does not own: an env var, Claude Code's file)
and how such an entry is written to auth.json: without the secret, with a
fingerprint of it."""
import hashlib
import re

# (provider, source) pairs whose secrets Hermes owns and saves as they are.
_OWNED = frozenset({
    ("anthropic", "hermes_pkce"),
    ("minimax-oauth", "oauth"),
    ("nous", "device_code"),
    ("openai-codex", "device_code"),
    ("xai-oauth", "device_code"),
})

_NOT_SECRET = frozenset({
    "secret_fingerprint", "secret_source", "token_type", "scope", "client_id", "agent_key_id",
    "agent_key_expires_at", "agent_key_expires_in", "agent_key_reused", "agent_key_obtained_at", "expires_at",
    "expires_at_ms", "expires_in", "last_refresh", "last_status", "last_status_at", "last_error_code",
    "last_error_reason", "last_error_message", "last_error_reset_at",
})
_SECRET_NAMES = frozenset({
    "access_token", "refresh_token", "agent_key", "api_key", "apikey", "api_token", "auth_token", "authorization",
    "bearer_token", "client_secret", "credential", "credentials", "id_token", "oauth_token", "private_key",
    "secret_key", "session_token", "password", "secret", "token", "tokens",
})
_SECRET_ENDINGS = ("_api_key", "_api_token", "_access_token", "_auth_token", "_refresh_token", "_bearer_token",
                   "_client_secret", "_id_token", "_oauth_token", "_private_key", "_session_token", "_secret_key",
                   "_password", "_secret", "_token", "_key")


def is_borrowed_credential_source(source, provider_id=None):
    """Any source but manual ones and the owned pairs above."""
    src = str(source or "").strip().lower()
    if not src or src == "manual" or src.startswith("manual:"):
        return False
    return (str(provider_id or "").strip().lower(), src) not in _OWNED


def _is_secret_key(key):
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(key or "").strip()).lower()
    name = name.replace("-", "_").replace(".", "_")
    if not name or name in _NOT_SECRET:
        return False
    return name in _SECRET_NAMES or name.endswith(_SECRET_ENDINGS)


def _fingerprint(value):
    if value is None or str(value) == "":
        return None
    return "sha256:" + hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def sanitize_borrowed_credential_payload(payload, provider_id=None):
    """A copy safe for auth.json: for a borrowed source, every secret field
    removed and secret_fingerprint ("sha256:" and 16 hex digits of the
    first secret) added."""
    out = dict(payload)
    if not is_borrowed_credential_source(out.get("source"), provider_id):
        return out
    fp = None
    for key in ("agent_key", "access_token", "refresh_token", "api_key", "token", "secret"):
        fp = _fingerprint(out.get(key))
        if fp:
            break
    if not fp:
        fp = next((f for f in (_fingerprint(v) for k, v in out.items() if _is_secret_key(k)) if f), None)
    if not fp and str(out.get("secret_fingerprint") or "").startswith("sha256:"):
        fp = out["secret_fingerprint"]
    clean = {k: v for k, v in out.items() if not _is_secret_key(k)}
    if fp:
        clean["secret_fingerprint"] = fp
    return clean
