"""What the stand-in modules share: the Hermes home, its files, and the names a
test asks to leave out."""
import json
import os


def home():
    return os.environ.get("HERMES_HOME") or os.path.join(os.path.expanduser("~"), ".hermes")


def omitted():
    return {x.strip() for x in os.environ.get("HERMES_STANDIN_OMIT", "").split(",") if x.strip()}


def read_auth():
    with open(os.path.join(home(), "auth.json"), encoding="utf-8") as f:
        return json.load(f)


def read_config():
    """config.yaml's model section and plugins.enabled, read line by line: the
    stand-in needs no YAML library and no more than these."""
    model, enabled, section, sub = {}, [], None, None
    with open(os.path.join(home(), "config.yaml"), encoding="utf-8") as f:
        for line in f:
            text = line.split(" #", 1)[0].rstrip()
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            depth = len(text) - len(text.lstrip())
            if depth == 0:
                section, sub = text.rstrip(":"), None
                continue
            key, _, value = text.strip().partition(":")
            value = value.strip().strip("'\"")
            if section == "model" and depth == 2:
                model[key] = value
            elif section == "plugins" and depth == 2:
                sub = key
                if key == "enabled" and value.startswith("["):
                    enabled += [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
            elif section == "plugins" and sub == "enabled" and text.strip().startswith("- "):
                enabled.append(text.strip()[2:].strip().strip("'\""))
    return {"model": model, "enabled": enabled}
