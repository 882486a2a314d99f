"""Value classes declared as dataclasses, made without generating code.

The package's value types (a diagnostic, a parse result, a capture, a rule ...) are
dataclasses, nearly all frozen. The standard library makes each one by writing the source
of its methods and compiling it, at every start of the tool: about 0.7 ms a class, some
30 ms for the 34 classes a ``check`` loads, a quarter of a short run, and importing
:mod:`dataclasses` loads :mod:`inspect` besides (issue #14: start like a small tool). Here
the same declarations get generic methods, made once per class from closures, and type
checkers are still told the truth about them::

    from typing import TYPE_CHECKING

    if TYPE_CHECKING:  # mypy checks these classes as the dataclasses they behave as
        from dataclasses import dataclass, field
    else:
        from .records import dataclass, field

The subset of :func:`dataclasses.dataclass` the package uses is supported, with the same
behaviour: ``frozen``, ``eq``, ``order``, fields with defaults,
``field(default=, default_factory=, compare=, repr=)``, ``__post_init__``, subclasses
that add fields, and methods a class writes itself (which are kept). :func:`replace` and
:func:`fields` stand for their namesakes, and take standard dataclasses too.
``tests/test_records.py`` holds every behaviour against the standard library's.

Where the instances are made is what costs: :func:`dataclass`'s ``__init__`` takes
positional arguments and the defaults of the fields after them in one step, and binds
keyword arguments in a loop.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING: Any = object()
FIELDS = "__record_fields__"
"""The attribute holding a record class's fields, by name, in order."""


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen instance (as :mod:`dataclasses`' own)."""


class Field:
    """One field of a record class; :func:`fields` gives them."""

    __slots__ = ("compare", "default", "default_factory", "name", "repr")

    def __init__(
        self, default: Any, default_factory: Any, compare: bool, repr: bool, name: str = ""
    ) -> None:
        self.name = name
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | Any = _MISSING,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    """A field's options, as :func:`dataclasses.field`'s."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, compare, repr)


def fields(class_or_instance: Any) -> tuple[Any, ...]:
    """The fields of a record class or instance, in order (a standard dataclass's too)."""
    found = getattr(class_or_instance, FIELDS, None)
    if found is None:
        import dataclasses

        return dataclasses.fields(class_or_instance)
    return tuple(found.values())


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes``, made through its ``__init__`` (so that its
    ``__post_init__`` runs again), as :func:`dataclasses.replace`; a standard
    dataclass's instances too."""
    found = getattr(obj, FIELDS, None)
    if found is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    for name in found:
        if name not in changes:
            changes[name] = getattr(obj, name)
    return obj.__class__(**changes)


def dataclass(
    cls: type[T] | None = None,
    /,
    *,
    eq: bool = True,
    order: bool = False,
    frozen: bool = False,
) -> Any:
    """The class ``cls`` with the methods :func:`dataclasses.dataclass` would give it."""

    def wrap(cls: type[T]) -> type[T]:
        return _make(cls, eq, order, frozen)

    return wrap if cls is None else wrap(cls)


def _make(cls: type[T], eq: bool, order: bool, frozen: bool) -> type[T]:
    own = cls.__dict__
    found: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        found.update(getattr(base, FIELDS, {}))
    for name, annotation in own.get("__annotations__", {}).items():
        if _is_class_var(annotation):
            continue
        value = own.get(name, _MISSING)
        if isinstance(value, Field):
            one = value
            if one.default is _MISSING:
                delattr(cls, name)  # as dataclasses: only a plain default stays on the class
            else:
                setattr(cls, name, one.default)
        else:
            one = Field(value, _MISSING, True, True)
        one.name = name
        found[name] = one
    setattr(cls, FIELDS, found)
    names = tuple(found)
    compared = tuple(n for n, f in found.items() if f.compare)
    shown = tuple(n for n, f in found.items() if f.repr)
    key = _key(compared)

    def put(name: str, method: Any) -> None:
        if name not in own:  # a method the class writes itself is kept
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)

    put("__init__", _init(cls, found))
    put("__repr__", _repr(shown))
    if eq:
        put("__eq__", _compare(key, operator.eq))
    if order:
        for name in ("__lt__", "__le__", "__gt__", "__ge__"):
            put(name, _compare(key, getattr(operator, name)))
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if eq and not explicit_hash:
        if frozen:
            cls.__hash__ = _hash(key)  # type: ignore[method-assign,assignment]
        else:
            cls.__hash__ = None  # type: ignore[assignment]
    if frozen:
        put("__setattr__", _frozen_setattr(cls, frozenset(names)))
        put("__delattr__", _frozen_delattr(cls, frozenset(names)))
    if "__replace__" not in own:  # copy.replace (Python 3.13), as dataclasses give it
        cls.__replace__ = _replace  # type: ignore[attr-defined]
    if "__match_args__" not in own:
        setattr(cls, "__match_args__", names)  # noqa: B010 - not declared on type
    return cls


def _replace(self: Any, /, **changes: Any) -> Any:
    return replace(self, **changes)


def _is_class_var(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of an instance's values of ``names``, as the standard methods compare."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        (name,) = names
        return lambda self: (getattr(self, name),)
    return lambda self: ()


def _init(cls: type, found: dict[str, Field]) -> Callable[..., None]:
    names = tuple(found)
    count = len(names)
    defaults = {n: f.default for n, f in found.items() if f.default is not _MISSING}
    factories = {
        n: f.default_factory for n, f in found.items() if f.default_factory is not _MISSING
    }
    post_init = getattr(cls, "__post_init__", None)
    title = cls.__qualname__
    tails: list[tuple[Any, ...] | None] = [
        tuple(defaults[n] for n in names[given:])
        if all(n in defaults for n in names[given:])
        else None
        for given in range(count + 1)
    ]
    """By the number of positional arguments, the defaults of the other fields, if none
    of them needs a factory: then one step makes the instance."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        values = self.__dict__
        tail = tails[len(args)] if len(args) <= count and not kwargs else None
        if tail is not None:  # fields in order, then defaults: one step
            values.update(zip(names, args + tail))
        else:
            if len(args) > count:
                raise TypeError(f"{title}() takes {count} arguments but {len(args)} were given")
            values.update(zip(names, args))
            for name in names[len(args) :]:
                if name in kwargs:
                    values[name] = kwargs.pop(name)
                elif name in defaults:
                    values[name] = defaults[name]
                elif name in factories:
                    values[name] = factories[name]()
                else:
                    raise TypeError(f"{title}() missing an argument: {name!r}")
            if kwargs:
                raise TypeError(f"{title}() got an unexpected argument {next(iter(kwargs))!r}")
        if post_init is not None:
            self.__post_init__()

    return __init__


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _compare(
    key: Callable[[Any], tuple[Any, ...]], test: Callable[[Any, Any], bool]
) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return test(key(self), key(other))
        return NotImplemented

    return method


def _hash(key: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


def _frozen_setattr(cls: Any, names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_delattr(cls: Any, names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__
