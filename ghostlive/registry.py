"""Named, pluggable parts (detectors, embedders, swappers, backends, sinks, enhancers, masks): one small registry.

Shaped like pyvirtualcam's ``register_backend``: each part is registered once under a name with a factory;
:meth:`Registry.get` of an unknown name raises a one-line error that lists the known names; :meth:`Registry.names`
gives the choices for the command line and the GUI; :meth:`Registry.best` picks the preferred part that is
installed, for the ``auto`` choice. Adding a part is one new module plus one ``register`` call::

    from ghostlive.media.sinks import SINKS
    SINKS.register("ndi", open_ndi, help="NDI network video (needs ndi-python)")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ghostlive.errors import ConfigError, GhostliveError

T = TypeVar("T")


def _always(*_args: Any, **_kwargs: Any) -> bool:
    return True


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered part: its factory, whether it can run here (``installed(*context)``; the context is
    what the registry's caller passes, e.g. a model store), its rank for ``auto`` and a one-line help."""

    name: str
    factory: Callable[..., T]
    installed: Callable[..., bool] = _always
    priority: int = 0
    help: str = ""


class Registry(Generic[T]):
    """Parts of one ``kind`` ("detector", "sink", ...) by name, in registration order."""

    def __init__(self, kind: str, error: type[GhostliveError] = ConfigError) -> None:
        self.kind = kind
        self.error = error
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        factory: Callable[..., T],
        *,
        installed: Callable[..., bool] = _always,
        priority: int = 0,
        help: str = "",
        replace: bool = False,
    ) -> Callable[..., T]:
        """Register ``factory`` under ``name`` (a second registration of a name is an error unless ``replace``);
        returns ``factory``, so it can be used as a decorator through :meth:`add`."""
        if name in self._entries and not replace:
            raise ConfigError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, factory, installed, priority, help)
        return factory

    def add(self, name: str, **options: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator form of :meth:`register`."""
        return lambda factory: self.register(name, factory, **options)

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order (the choices to offer)."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def entry(self, name: str) -> Entry[T]:
        """The entry for ``name``; an unknown name raises one line listing the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise self.error(f"unknown {self.kind} {name!r}; choose from {', '.join(self._entries)}") from None

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered under ``name`` (see :meth:`entry` for unknown names)."""
        return self.entry(name).factory

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        """``get(name)(*args, **kwargs)``."""
        return self.get(name)(*args, **kwargs)

    def installed(self, *context: Any) -> tuple[str, ...]:
        """The names whose ``installed(*context)`` is true, best (highest priority) first."""
        ranked = sorted(self._entries.values(), key=lambda e: -e.priority)  # stable: ties keep registration order
        return tuple(e.name for e in ranked if e.installed(*context))

    def best(self, *context: Any) -> str:
        """The highest-priority installed name (the ``auto`` choice); an error when none is installed."""
        found = self.installed(*context)
        if not found:
            raise self.error(f"no {self.kind} is installed; known: {', '.join(self._entries)}")
        return found[0]

    def help(self) -> str:
        """``name: help`` for each entry, one per line (for ``--help`` texts and the README)."""
        return "\n".join(f"{e.name}: {e.help}" for e in self._entries.values())
