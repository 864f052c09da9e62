"""Stand-in for agent/credential_pool.py: PooledCredential, load_pool and
_seed_from_singletons, which (as in Hermes) re-creates entries from singleton
credentials with the official base URL every time the pool loads."""
from dataclasses import dataclass, field
from typing import Optional

from hermes_cli import _standin
from hermes_cli.providers import HERMES_OVERLAYS, OFFICIAL_BASE_URLS


@dataclass
class PooledCredential:
    provider: str
    id: str
    label: str = ""
    auth_type: str = "api_key"
    priority: int = 0
    source: str = "manual"
    access_token: str = ""
    refresh_token: Optional[str] = None
    base_url: Optional[str] = None
    extra: dict = field(default_factory=dict)

    @property
    def runtime_base_url(self):
        overlay = HERMES_OVERLAYS.get(self.provider)
        return (self.base_url or (overlay.base_url_override if overlay else None)
                or OFFICIAL_BASE_URLS.get(self.provider))


def _entry(provider, raw):
    known = {k: raw.get(k) for k in ("id", "label", "auth_type", "priority", "source", "access_token",
                                       "refresh_token", "base_url") if k in raw}
    extra = {k: v for k, v in raw.items() if k not in known}
    return PooledCredential(provider=provider, extra=extra, **known)


def _seed_from_singletons(provider, entries):
    """Entries from singleton credentials (the Codex device-code login here),
    always with the official base URL. Returns (changed, active_sources)."""
    singleton = _standin.read_auth().get("providers", {}).get(provider) or {}
    tokens = singleton.get("tokens") or {}
    changed, sources = False, []
    if tokens.get("access_token"):
        seeded = [e for e in entries if e.source == "device_code"]
        if not seeded:
            entries.append(PooledCredential(provider=provider, id="seeded-" + provider, label="seeded",
                                            auth_type="oauth", source="device_code",
                                            access_token=tokens["access_token"],
                                            refresh_token=tokens.get("refresh_token")))
            seeded = entries[-1:]
            changed = True
        for e in seeded:
            e.base_url = OFFICIAL_BASE_URLS[provider]
            e.access_token = tokens["access_token"]
        sources.append("device_code")
    return changed, sources


def load_pool(provider):
    raw = _standin.read_auth().get("credential_pool", {}).get(provider, [])
    entries = [_entry(provider, r) for r in raw]
    seed = globals().get("_seed_from_singletons")  # absent in the "seed" omission
    if seed:
        seed(provider, entries)
    return sorted(entries, key=lambda e: e.priority)


if "seed" in _standin.omitted():
    del _seed_from_singletons
