"""What the stand-in modules share and real Hermes keeps elsewhere: the names
a test asks to leave out, a small YAML reader (config.yaml and plugin.yaml,
without a YAML library), and the wire: one request as a provider's client
sends it, to loopback addresses only."""
import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request


def home():
    return os.environ.get("HERMES_HOME") or os.path.join(os.path.expanduser("~"), ".hermes")


def omitted():
    """HERMES_STANDIN_OMIT: comma-separated names to leave out, to act as
    another Hermes version."""
    return {x.strip() for x in os.environ.get("HERMES_STANDIN_OMIT", "").split(",") if x.strip()}


def read_auth():
    with open(os.path.join(home(), "auth.json"), encoding="utf-8") as f:
        return json.load(f)


# ---- YAML, the subset Hermes's own files use -----------------------------------------


class YamlError(ValueError):
    pass


def _strip_comment(line):
    """The line without a trailing '# comment' (a '#' outside quotes that
    starts the line or follows a blank)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t[{,:-"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _split_flow(text):
    """Items of a flow collection's inside, split on top-level commas."""
    items, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [x.strip() for x in items if x.strip()]


def _key_split(text):
    """(key, rest) when text is 'key: rest' or 'key:', else None."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and i == 0:
            quote = ch
        elif ch in "[{" and i == 0:
            return None
        elif ch == ":" and (i + 1 == len(text) or text[i + 1] in " \t"):
            return scalar(text[:i].strip()), text[i + 1:].strip()
    return None


def scalar(text):
    """One YAML scalar or flow collection, as PyYAML's safe loader reads it."""
    text = text.strip()
    if not text:
        return None
    if text[0] == "[" and text.endswith("]"):
        return [scalar(x) for x in _split_flow(text[1:-1])]
    if text[0] == "{" and text.endswith("}"):
        out = {}
        for item in _split_flow(text[1:-1]):
            kv = _key_split(item)
            if kv is None:
                out[scalar(item)] = None
            else:
                out[kv[0]] = scalar(kv[1])
        return out
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return json.loads(text) if "\\" in text else text[1:-1]
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("null", "~"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_yaml(text):
    """A YAML document made of block mappings, block sequences, flow
    collections and scalars (what config.yaml and plugin.yaml hold)."""
    lines = []
    for raw in text.splitlines():
        if raw.strip() in ("---", "..."):
            continue
        line = _strip_comment(raw.replace("\t", "    "))
        if line.strip():
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))
    value, pos = _block(lines, 0, 0)
    return value if pos >= len(lines) else _fail(lines[pos][1])


def _fail(text):
    raise YamlError(f"cannot read YAML near: {text!r}")


def _block(lines, pos, indent):
    if pos >= len(lines):
        return None, pos
    depth, text = lines[pos]
    if depth < indent:
        return None, pos
    if text == "-" or text.startswith("- "):
        return _sequence(lines, pos, depth)
    if _key_split(text) is not None:
        return _mapping(lines, pos, depth)
    return scalar(text), pos + 1


def _value_after(lines, pos, rest, parent_depth):
    """The value of 'key: rest' or '- rest', whose own lines follow at pos."""
    if rest:
        return scalar(rest), pos
    if pos < len(lines) and (lines[pos][0] > parent_depth or
                             (lines[pos][0] == parent_depth and lines[pos][1].startswith("- "))):
        return _block(lines, pos, lines[pos][0])
    return None, pos


def _mapping(lines, pos, depth):
    out = {}
    while pos < len(lines) and lines[pos][0] == depth:
        kv = _key_split(lines[pos][1])
        if kv is None:
            break
        key, rest = kv
        value, pos = _value_after(lines, pos + 1, rest, depth)
        out[key] = value
    return out, pos


def _sequence(lines, pos, depth):
    out = []
    while pos < len(lines) and lines[pos][0] == depth and (lines[pos][1] == "-" or lines[pos][1].startswith("- ")):
        rest = lines[pos][1][1:].strip()
        kv = _key_split(rest) if rest else None
        if kv is not None:  # "- key: value" opens a mapping item
            inner = depth + 2
            sub = [(inner, rest)]
            j = pos + 1
            while j < len(lines) and lines[j][0] > depth:
                sub.append(lines[j])
                j += 1
            item, _ = _mapping(sub, 0, inner)
            out.append(item)
            pos = j
            continue
        value, pos = _value_after(lines, pos + 1, rest, depth)
        out.append(value)
    return out, pos


def read_yaml(path):
    """The file's document; {} when it does not exist."""
    try:
        with open(path, encoding="utf-8") as f:
            return parse_yaml(f.read()) or {}
    except FileNotFoundError:
        return {}


# ---- the wire ----------------------------------------------------------------------


def jwt_claims(token):
    try:
        part = str(token).split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except Exception:
        return {}


def is_loopback(url):
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def post(*, base_url, api_mode, api_key, provider, model, messages, max_tokens=16):
    """One request as the provider's client sends it: (url, status, body).
    Only loopback addresses are contacted; any other gets status 0 and is
    not sent (the tests must never leave the machine)."""
    base = str(base_url or "").rstrip("/")
    headers = {"content-type": "application/json", "user-agent": "hermes-standin/0"}
    key = str(api_key or "")
    if api_mode == "anthropic_messages":
        url = base + "/v1/messages"
        body = {"model": model, "max_tokens": max_tokens, "messages": messages}
        headers["anthropic-version"] = "2023-06-01"
        if key.startswith("sk-ant-oat"):
            headers["authorization"] = "Bearer " + key
            headers["anthropic-beta"] = "oauth-2025-04-20"
        else:
            headers["x-api-key"] = key
    elif api_mode == "codex_responses":
        url = base + "/responses"
        body = {"model": model, "input": messages, "stream": False}
        headers["authorization"] = "Bearer " + key
        if provider == "openai-codex":
            account = (jwt_claims(key).get("https://api.openai.com/auth") or {}).get("chatgpt_account_id")
            if not account:
                try:
                    account = read_auth()["providers"]["openai-codex"]["tokens"].get("account_id")
                except Exception:
                    account = None
            if account:
                headers["chatgpt-account-id"] = account
    else:
        url = base + "/chat/completions"
        body = {"model": model, "messages": messages, "max_tokens": max_tokens}
        headers["authorization"] = "Bearer " + key
    if not is_loopback(url):
        return url, 0, b"not sent: the stand-in only contacts loopback addresses"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return url, r.status, r.read()
    except urllib.error.HTTPError as e:
        return url, e.code, e.read()
    except OSError as e:
        return url, 0, str(getattr(e, "reason", e)).encode()
