"""Stand-in for hermes_cli/plugins.py, for user plugins: the PluginManager
finds $HERMES_HOME/plugins/<name>/ folders that hold a plugin.yaml (or
plugin.yml) and an __init__.py (and ./.hermes/plugins/ when
HERMES_ENABLE_PROJECT_PLUGINS is set), and loads only those named in
config.yaml plugins.enabled; plugins.disabled wins over enabled; with
HERMES_SAFE_MODE set to 1/true/yes/on nothing is even discovered. Each
plugin is imported as hermes_plugins.<name> and its register(ctx) called
with a PluginContext (manifest, llm, profile_name, register_tool,
register_hook, register_middleware, register_command: no get_config). Why
a plugin was not loaded is kept in LoadedPlugin.error ("disabled via
config", "not enabled in config ...", or the exception) and in
list_plugins(). invoke_hook calls each callback in its own try/except.
Bundled and pip-installed plugins are not modelled."""
import importlib.util
import logging
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from hermes_cli import _standin
from hermes_cli.config import cfg_get, load_config
from hermes_constants import get_hermes_home
from utils import env_var_enabled

logger = logging.getLogger(__name__)

VALID_HOOKS = {
    "pre_tool_call", "post_tool_call", "transform_terminal_output", "transform_tool_result", "transform_llm_output",
    "pre_llm_call", "post_llm_call", "pre_verify", "pre_api_request", "post_api_request", "api_request_error",
    "on_session_start", "on_session_end", "on_session_finalize", "on_session_reset", "subagent_start",
    "subagent_stop", "pre_gateway_dispatch", "pre_approval_request", "post_approval_response",
}
VALID_MIDDLEWARE = {"tool_request", "tool_execution", "llm_request", "llm_execution"}
OBSERVER_SCHEMA_VERSION = "hermes.observer.v1"
_NS_PARENT = "hermes_plugins"
_KINDS = {"standalone", "backend", "exclusive", "platform", "model-provider"}


def _get_disabled_plugins():
    disabled = cfg_get(load_config(), "plugins", "disabled", default=[])
    return set(disabled) if isinstance(disabled, list) else set()


def _get_enabled_plugins():
    """The allow-list; None when plugins.enabled is missing or not a list."""
    plugins = load_config().get("plugins")
    if not isinstance(plugins, dict) or not isinstance(plugins.get("enabled"), list):
        return None
    return set(plugins["enabled"])


@dataclass
class PluginManifest:
    name: str
    version: str = ""
    description: str = ""
    author: str = ""
    requires_env: List[Any] = field(default_factory=list)
    provides_tools: List[str] = field(default_factory=list)
    provides_hooks: List[str] = field(default_factory=list)
    source: str = ""
    path: Optional[str] = None
    kind: str = "standalone"
    key: str = ""


@dataclass
class LoadedPlugin:
    manifest: PluginManifest
    module: Optional[types.ModuleType] = None
    tools_registered: List[str] = field(default_factory=list)
    hooks_registered: List[str] = field(default_factory=list)
    middleware_registered: List[str] = field(default_factory=list)
    commands_registered: List[str] = field(default_factory=list)
    enabled: bool = False
    error: Optional[str] = None


class PluginContext:
    """What register(ctx) gets."""

    def __init__(self, manifest, manager):
        self.manifest = manifest
        self._manager = manager
        self._llm = None

    @property
    def llm(self):
        if self._llm is None:
            from agent.plugin_llm import PluginLlm

            self._llm = PluginLlm(plugin_id=self.manifest.key or self.manifest.name)
        return self._llm

    @property
    def profile_name(self):
        try:
            from hermes_cli.profiles import get_active_profile_name

            return get_active_profile_name()
        except Exception:
            return "default"

    def register_tool(self, name, toolset, schema, handler, check_fn=None, requires_env=None, is_async=False,
                      description="", emoji="", override=False):
        self._manager._tools[name] = {"toolset": toolset, "schema": schema, "handler": handler,
                                      "plugin": self.manifest.name}
        self._manager._plugin_tool_names.add(name)

    def register_hook(self, hook_name, callback):
        if hook_name not in VALID_HOOKS:
            logger.warning("Plugin '%s' registered unknown hook '%s'", self.manifest.name, hook_name)
        self._manager._hooks.setdefault(hook_name, []).append(callback)

    def register_middleware(self, kind, callback):
        if kind not in VALID_MIDDLEWARE:
            logger.warning("Plugin '%s' registered unknown middleware '%s'", self.manifest.name, kind)
        self._manager._middleware.setdefault(kind, []).append(callback)

    def register_command(self, name, handler, description="", args_hint=""):
        clean = name.lower().strip().lstrip("/").replace(" ", "-")
        if clean:
            self._manager._plugin_commands[clean] = {"handler": handler, "description": description,
                                                     "plugin": self.manifest.name, "args_hint": args_hint}


class PluginManager:
    def __init__(self):
        self._plugins: Dict[str, LoadedPlugin] = {}
        self._hooks: Dict[str, List[Callable]] = {}
        self._middleware: Dict[str, List[Callable]] = {}
        self._tools: Dict[str, dict] = {}
        self._plugin_tool_names = set()
        self._plugin_commands: Dict[str, dict] = {}
        self._discovered = False

    def discover_and_load(self, force=False):
        if self._discovered and not force:
            return
        if env_var_enabled("HERMES_SAFE_MODE"):
            logger.info("HERMES_SAFE_MODE=1 — plugin discovery skipped")
            self._discovered = True
            return
        if force:
            for table in (self._plugins, self._hooks, self._middleware, self._tools, self._plugin_commands):
                table.clear()
            self._plugin_tool_names.clear()
        self._discovered = True
        try:
            self._discover_and_load_inner()
        except BaseException:
            self._discovered = False
            raise

    def _discover_and_load_inner(self):
        manifests = self._scan_directory(get_hermes_home() / "plugins", "user")
        if env_var_enabled("HERMES_ENABLE_PROJECT_PLUGINS"):
            manifests += self._scan_directory(Path.cwd() / ".hermes" / "plugins", "project")
        disabled, enabled = _get_disabled_plugins(), _get_enabled_plugins()
        winners = {}
        for manifest in manifests:
            winners[manifest.key or manifest.name] = manifest
        for key, manifest in winners.items():
            if key in disabled or manifest.name in disabled:
                self._plugins[key] = LoadedPlugin(manifest=manifest, error="disabled via config")
            elif manifest.kind == "exclusive":
                self._plugins[key] = LoadedPlugin(
                    manifest=manifest, error="exclusive plugin — activate via <category>.provider config")
            elif manifest.kind == "model-provider":
                self._plugins[key] = LoadedPlugin(manifest=manifest, enabled=True)
            elif enabled is None or (key not in enabled and manifest.name not in enabled):
                self._plugins[key] = LoadedPlugin(
                    manifest=manifest,
                    error=f"not enabled in config (run `hermes plugins enable {key}` to activate)")
            else:
                self._load_plugin(manifest)

    def _scan_directory(self, path, source):
        found = []
        if not path.is_dir():
            return found
        for child in sorted(path.iterdir()):
            if not child.is_dir():
                continue
            manifest_file = child / "plugin.yaml"
            if not manifest_file.exists():
                manifest_file = child / "plugin.yml"
            if manifest_file.exists():
                manifest = self._parse_manifest(manifest_file, child, source)
                if manifest is not None:
                    found.append(manifest)
        return found

    def _parse_manifest(self, manifest_file, plugin_dir, source):
        try:
            data = _standin.parse_yaml(manifest_file.read_text(encoding="utf-8")) or {}
        except Exception as exc:
            logger.warning("Failed to parse %s: %s", manifest_file, exc)
            return None
        name = data.get("name", plugin_dir.name)
        kind = str(data.get("kind", "standalone")).strip().lower() if isinstance(data.get("kind", ""), str) \
            else "standalone"
        kind = kind if kind in _KINDS else "standalone"
        return PluginManifest(name=name, version=str(data.get("version", "")), description=data.get("description", ""),
                              author=data.get("author", ""), requires_env=data.get("requires_env", []),
                              provides_tools=data.get("provides_tools", []),
                              provides_hooks=data.get("provides_hooks", []), source=source, path=str(plugin_dir),
                              kind=kind, key=name)

    def _load_plugin(self, manifest):
        loaded = LoadedPlugin(manifest=manifest)
        try:
            module = self._load_directory_module(manifest)
            loaded.module = module
            register = getattr(module, "register", None)
            if register is None:
                loaded.error = "no register() function"
            else:
                tools = set(self._plugin_tool_names)
                hooks = {h: len(c) for h, c in self._hooks.items()}
                middleware = {k: len(c) for k, c in self._middleware.items()}
                register(PluginContext(manifest, self))
                loaded.tools_registered = [t for t in self._plugin_tool_names if t not in tools]
                loaded.hooks_registered = [h for h, c in self._hooks.items() if len(c) > hooks.get(h, 0)]
                loaded.middleware_registered = [k for k, c in self._middleware.items() if len(c) > middleware.get(k, 0)]
                loaded.commands_registered = [c for c, v in self._plugin_commands.items()
                                              if v.get("plugin") == manifest.name]
                loaded.enabled = True
        except Exception as exc:
            loaded.error = str(exc)
            logger.warning("Failed to load plugin '%s': %s", manifest.name, exc)
        self._plugins[manifest.key or manifest.name] = loaded

    def _load_directory_module(self, manifest):
        plugin_dir = Path(manifest.path)
        init_file = plugin_dir / "__init__.py"
        if not init_file.exists():
            raise FileNotFoundError(f"No __init__.py in {plugin_dir}")
        if _NS_PARENT not in sys.modules:
            parent = types.ModuleType(_NS_PARENT)
            parent.__path__ = []
            sys.modules[_NS_PARENT] = parent
        module_name = f"{_NS_PARENT}.{(manifest.key or manifest.name).replace('/', '__').replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(module_name, init_file,
                                                      submodule_search_locations=[str(plugin_dir)])
        module = importlib.util.module_from_spec(spec)
        module.__package__ = module_name
        module.__path__ = [str(plugin_dir)]
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module

    def invoke_hook(self, hook_name, **kwargs):
        """Every callback of the hook, each isolated; their non-None results."""
        kwargs.setdefault("telemetry_schema_version", OBSERVER_SCHEMA_VERSION)
        results = []
        for callback in self._hooks.get(hook_name, []):
            try:
                result = callback(**kwargs)
                if result is not None:
                    results.append(result)
            except Exception as exc:
                logger.warning("Hook '%s' callback %s raised: %s", hook_name,
                               getattr(callback, "__name__", repr(callback)), exc)
        return results

    def has_hook(self, hook_name):
        return bool(self._hooks.get(hook_name))

    def has_middleware(self, kind):
        return bool(self._middleware.get(kind))

    def list_plugins(self):
        return [{"name": p.manifest.name, "key": p.manifest.key or p.manifest.name, "kind": p.manifest.kind,
                 "version": p.manifest.version, "description": p.manifest.description, "source": p.manifest.source,
                 "enabled": p.enabled, "tools": len(p.tools_registered), "hooks": len(p.hooks_registered),
                 "middleware": len(p.middleware_registered), "commands": len(p.commands_registered),
                 "error": p.error} for _, p in sorted(self._plugins.items())]


_plugin_manager: Optional[PluginManager] = None


def get_plugin_manager():
    global _plugin_manager
    if _plugin_manager is None:
        _plugin_manager = PluginManager()
    return _plugin_manager


def discover_plugins(force=False):
    get_plugin_manager().discover_and_load(force=force)


def invoke_hook(hook_name, **kwargs):
    return get_plugin_manager().invoke_hook(hook_name, **kwargs)


def has_hook(hook_name):
    return get_plugin_manager().has_hook(hook_name)


def has_middleware(kind):
    return get_plugin_manager().has_middleware(kind)
