"""Extension points: how an app calls code of an app above it without importing it.

Imports flow one way (docs/architecture.md, "Layers"): subscribers may not import billing, core may not
import anything. When a lower app needs something only a higher one knows (subscribers ending a
subscription must have billing withdraw its open charges), the lower app *declares* a named point in its
own code and calls it; the higher app *provides* the implementation in its `AppConfig.ready()`:

    # subscribers/extension_points.py (declares)
    subscription_ended = ExtensionPoint("subscribers.subscription_ended", declared_by="subscribers")
    # billing/apps.py, ready() (provides)
    extension_points.subscription_ended.provide(subscription_ended_charges)
    # subscribers/services/_common.py (calls)
    extension_points.subscription_ended(subscription, now=now)

A point without its provider is an error, never a silent no-op: the system check `core.E001` fails at
startup (`manage.py check`, `migrate`, `runserver`) and calling it raises `MissingProvider`. `Hooks` is the
other kind: any number of providers (none is fine), e.g. what each worker heartbeat also runs.

Tests see the provider (`point.provider`) and may stand in for it with `point.override(function)`.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

_POINTS: dict[str, "ExtensionPoint | Hooks"] = {}


class MissingProvider(ImproperlyConfigured):
    """An extension point was called before any app provided it (is the providing app installed?)."""


def _declare(point) -> None:
    if point.name in _POINTS:
        raise ImproperlyConfigured(f"Extension point {point.name!r} is declared twice.")
    _POINTS[point.name] = point


def _label(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


class ExtensionPoint:
    """One named function that a lower app calls and exactly one higher app provides."""

    def __init__(self, name: str, *, declared_by: str, description: str = ""):
        self.name = name
        self.declared_by = declared_by
        self.description = description
        self.provided_by: str | None = None
        self._function: Callable | None = None
        _declare(self)

    def __repr__(self):
        return f"<ExtensionPoint {self.name} → {self.provider_label or 'no provider'}>"

    def provide(self, function: Callable, *, by: str) -> None:
        """Installs `function` as this point's implementation (from the providing app's `ready()`; `by` is
        that app's label). Providing the same function again is harmless (ready() may run more than once);
        a second, different provider is a configuration error."""
        if self._function is not None and self._function is not function:
            raise ImproperlyConfigured(
                f"Extension point {self.name!r} is already provided by {self.provider_label} "
                f"({self.provided_by}); {by} tried to provide {_label(function)}."
            )
        self._function = function
        self.provided_by = by

    @property
    def provider(self) -> Callable | None:
        return self._function

    @property
    def provider_label(self) -> str | None:
        return _label(self._function) if self._function else None

    def get(self) -> Callable:
        if self._function is None:
            raise MissingProvider(
                f"Extension point {self.name!r} (declared by {self.declared_by}) has no provider: the app "
                "that implements it registers it in its AppConfig.ready(); is that app in INSTALLED_APPS?"
            )
        return self._function

    def __call__(self, *args, **kwargs):
        return self.get()(*args, **kwargs)

    @contextmanager
    def override(self, function: Callable | None) -> Iterator[None]:
        """For tests: `function` answers this point inside the block (None: no provider at all)."""
        saved = self._function, self.provided_by
        self._function, self.provided_by = function, "override"
        try:
            yield
        finally:
            self._function, self.provided_by = saved


class Hooks:
    """Named functions that any number of higher apps add (none is fine), optionally under a key."""

    def __init__(self, name: str, *, declared_by: str, description: str = ""):
        self.name = name
        self.declared_by = declared_by
        self.description = description
        self._functions: dict[str | None, list[tuple[Callable, str]]] = {}
        _declare(self)

    def __repr__(self):
        return f"<Hooks {self.name}: {self.providers}>"

    def provide(self, function: Callable, *, by: str, key: str | None = None) -> None:
        """Adds `function` (once, however often ready() runs) under `key`."""
        functions = self._functions.setdefault(key, [])
        if all(existing is not function for existing, _by in functions):
            functions.append((function, by))

    def get(self, key: str | None = None) -> list[Callable]:
        return [function for function, _by in self._functions.get(key, [])]

    @property
    def providers(self) -> dict[str | None, list[str]]:
        """{key: [dotted name of each function]}, for tests and the documentation."""
        return {key: [_label(function) for function, _by in pairs] for key, pairs in self._functions.items()}

    @contextmanager
    def override(self, functions: list[Callable], *, key: str | None = None) -> Iterator[None]:
        saved = self._functions.get(key)
        self._functions[key] = [(function, "override") for function in functions]
        try:
            yield
        finally:
            if saved is None:
                self._functions.pop(key, None)
            else:
                self._functions[key] = saved


def points() -> list["ExtensionPoint | Hooks"]:
    """Every declared point, by name (declared when the declaring module is imported)."""
    return [_POINTS[name] for name in sorted(_POINTS)]


@register()
def check_providers(app_configs=None, **kwargs) -> list[Error]:
    """core.E001: every ExtensionPoint has its provider once all apps are ready."""
    return [
        Error(
            f"Extension point {point.name!r} (declared by {point.declared_by}) has no provider.",
            hint="The app that implements it must call .provide() in its AppConfig.ready().",
            id="core.E001",
        )
        for point in points()
        if isinstance(point, ExtensionPoint) and point.provider is None
    ]
