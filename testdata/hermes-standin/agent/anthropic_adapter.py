"""Stand-in for the credential part of agent/anthropic_adapter.py: Claude
Code's credentials file (~/.claude/.credentials.json, under $HOME), Hermes's
own OAuth file, and the order in which a token is chosen outside the pool."""
import json
import os
from pathlib import Path

from hermes_constants import get_hermes_home


def _is_oauth_token(token):
    return str(token or "").startswith("sk-ant-oat")


def read_claude_code_credentials():
    """{accessToken, refreshToken, expiresAt, source} from
    ~/.claude/.credentials.json's claudeAiOauth, or None."""
    path = Path.home() / ".claude" / ".credentials.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
    if not isinstance(oauth, dict) or not oauth.get("accessToken"):
        return None
    return {"accessToken": oauth["accessToken"], "refreshToken": oauth.get("refreshToken", ""),
            "expiresAt": oauth.get("expiresAt", 0), "source": "claude_code_credentials_file"}


def read_hermes_oauth_credentials():
    """$HERMES_HOME/.anthropic_oauth.json (Hermes's own Claude login), or None."""
    try:
        data = json.loads((get_hermes_home() / ".anthropic_oauth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("accessToken") else None


def resolve_anthropic_token():
    """ANTHROPIC_TOKEN, CLAUDE_CODE_OAUTH_TOKEN, Claude Code's file, an OAuth
    entry of the pool, ANTHROPIC_API_KEY: the first there."""
    for var in ("ANTHROPIC_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"):
        token = os.getenv(var, "").strip()
        if token:
            return token
    creds = read_claude_code_credentials()
    if creds:
        return creds["accessToken"]
    try:
        from hermes_cli.auth import read_credential_pool

        for entry in read_credential_pool("anthropic"):
            token = str(entry.get("access_token") or "") if isinstance(entry, dict) else ""
            if _is_oauth_token(token):
                return token
    except Exception:
        pass
    return os.getenv("ANTHROPIC_API_KEY", "").strip() or None
