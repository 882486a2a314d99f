"""conformance.records makes the classes the standard library's dataclasses would.

Each declaration below is made twice, by :func:`dataclasses.dataclass` and by
:func:`conformance.records.dataclass`, and the two are held to the same behaviour:
construction (positional, keywords, defaults, factories, wrong calls), ``repr``,
equality, hashing, ordering, frozenness, ``replace``, ``fields``, pickling and copying.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import pickle
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import conformance
from conformance import records

Maker = Callable[..., Any]


def declarations(make: Maker, field: Callable[..., Any]) -> dict[str, type]:
    """The shapes the package declares, made by ``make`` (a dataclass decorator)."""

    @make(frozen=True)
    class Plain:
        """Two fields, no defaults."""

        a: int
        b: str

    @make(frozen=True)
    class Defaults:
        """Defaults, a factory, and a field left out of comparisons."""

        a: int
        b: str = "x"
        c: tuple[int, ...] = ()
        d: dict[str, int] = field(default_factory=dict)
        e: Any = field(default=None, compare=False)

    @make(frozen=True, order=True)
    class Ordered:
        """Compared as the tuple of its fields."""

        path: str = ""
        line: int = 0
        column: int = 0

    @make(frozen=True)
    class Base:
        """A base whose subclass adds fields."""

        name: str
        size: int = 0

    @make(frozen=True)
    class Derived(Base):
        """More fields, one left out of comparisons."""

        extra: str = ""
        hook: Any = field(default=None, compare=False)

    @make(frozen=True)
    class PostInit:
        """Its __post_init__ rewrites a field."""

        text: str

        def __post_init__(self) -> None:
            object.__setattr__(self, "text", self.text.upper())

    @make
    class Mutable:
        """Not frozen: assignments work, and it is not hashable."""

        items: list[int] = field(default_factory=list)
        count: int = 0

    @make(frozen=True)
    class OwnMethods:
        """Methods the class writes itself are kept."""

        value: int

        def __repr__(self) -> str:
            return f"<{self.value}>"

    return {
        "Plain": Plain,
        "Defaults": Defaults,
        "Ordered": Ordered,
        "Base": Base,
        "Derived": Derived,
        "PostInit": PostInit,
        "Mutable": Mutable,
        "OwnMethods": OwnMethods,
    }


def published(made: dict[str, type], prefix: str) -> dict[str, type]:
    """The classes as globals of this module, so that pickle finds them."""
    for name, cls in made.items():
        cls.__name__ = cls.__qualname__ = prefix + name
        globals()[prefix + name] = cls
    return made


STDLIB = published(declarations(dataclasses.dataclass, dataclasses.field), "Std")
OURS = published(declarations(records.dataclass, records.field), "Our")


def same_repr(theirs: Any, ours: Any) -> bool:
    return repr(theirs).replace("Std", "") == repr(ours).replace("Our", "")


CALLS: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "Plain": [((1, "b"), {}), ((1,), {"b": "b"}), ((), {"a": 2, "b": "c"})],
    "Defaults": [
        ((1,), {}),
        ((1, "y", (1, 2), {"k": 1}, "e"), {}),
        ((1,), {"d": {"k": 2}, "e": object()}),
        ((1, "y"), {"c": (3,)}),
    ],
    "Ordered": [((), {}), (("p", 1, 2), {}), (("p",), {"column": 5})],
    "Base": [(("n",), {}), (("n", 3), {})],
    "Derived": [(("n",), {}), (("n", 1, "x"), {}), (("n",), {"extra": "e", "hook": len})],
    "PostInit": [(("abc",), {}), ((), {"text": "def"})],
    "Mutable": [((), {}), (([1, 2], 3), {})],
    "OwnMethods": [((7,), {})],
}
WRONG_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("Plain", (1,), {}),  # missing
    ("Plain", (1, "b", 3), {}),  # too many
    ("Plain", (1, "b"), {"c": 1}),  # unknown keyword
    ("Defaults", (), {"b": "x"}),  # missing the first
    ("Derived", (), {}),
]


def both(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    return STDLIB[name](*args, **kwargs), OURS[name](*args, **kwargs)


def values(instance: Any) -> dict[str, Any]:
    return {f.name: getattr(instance, f.name) for f in records.fields(instance)}


CASES = [(name, args, kwargs) for name, calls in CALLS.items() for args, kwargs in calls]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_made_alike(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    theirs, ours = both(name, args, kwargs)
    assert [f.name for f in dataclasses.fields(theirs)] == [f.name for f in records.fields(ours)]
    assert values(theirs) == values(ours)
    assert vars(theirs) == vars(ours)
    assert same_repr(theirs, ours)
    assert (ours == OURS[name](*args, **kwargs)) is True
    assert (ours != OURS[name](*args, **kwargs)) is False
    assert ours != theirs  # another class: never equal, as between two dataclasses
    # Python 3.9's dataclasses have no __match_args__ (3.10 brought match)
    assert (
        getattr(type(theirs), "__match_args__", type(ours).__match_args__)
        == type(ours).__match_args__
    )


@pytest.mark.parametrize(("name", "args", "kwargs"), WRONG_CALLS)
def test_wrong_calls_fail_alike(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        STDLIB[name](*args, **kwargs)
    with pytest.raises(TypeError):
        OURS[name](*args, **kwargs)


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_frozen_hashing_and_pickling_alike(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    theirs, ours = both(name, args, kwargs)
    first = next(iter(values(ours)))
    frozen = STDLIB[name].__setattr__ is not object.__setattr__
    if frozen:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(theirs, first, 0)
        with pytest.raises(AttributeError, match="cannot assign to field"):
            setattr(ours, first, 0)
        with pytest.raises(AttributeError, match="cannot delete field"):
            delattr(ours, first)
    else:
        setattr(ours, first, [9])
        setattr(theirs, first, [9])
        assert values(ours) == values(theirs)
    assert (type(theirs).__hash__ is None) == (type(ours).__hash__ is None)
    if type(ours).__hash__ is not None and all(_hashable(v) for v in values(ours).values()):
        assert hash(ours) == hash(OURS[name](*args, **kwargs))
        assert hash(theirs) == hash(ours)  # the same tuple is hashed
    if "hook" not in kwargs and "e" not in kwargs:  # a builtin or object() compares by identity
        assert pickle.loads(pickle.dumps(ours)) == ours
        assert values(pickle.loads(pickle.dumps(theirs))) == values(
            pickle.loads(pickle.dumps(ours))
        )
    assert copy.copy(ours) == ours
    assert copy.deepcopy(ours) == ours


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def test_replace_alike_and_post_init_runs_again() -> None:
    theirs, ours = both("PostInit", ("abc",), {})
    assert values(dataclasses.replace(theirs, text="new")) == values(
        records.replace(ours, text="new")
    )
    assert records.replace(ours).text == "ABC"
    theirs, ours = both("Derived", ("n", 1), {"extra": "e"})
    assert values(dataclasses.replace(theirs, size=5)) == values(records.replace(ours, size=5))
    with pytest.raises(TypeError):
        records.replace(ours, nope=1)
    # a standard dataclass goes to the standard library's replace and fields
    assert records.replace(theirs, size=7).size == 7
    assert [f.name for f in records.fields(theirs)] == ["name", "size", "extra", "hook"]


@pytest.mark.skipif(not hasattr(copy, "replace"), reason="copy.replace came with Python 3.13")
def test_copy_replace_alike() -> None:
    theirs, ours = both("Derived", ("n", 1), {"extra": "e"})
    made = copy.replace(theirs, size=2), copy.replace(ours, size=2)  # type: ignore[attr-defined]
    assert values(made[0]) == values(made[1])


def test_compare_false_fields_are_left_out_of_equality_and_hash() -> None:
    a = OURS["Derived"]("n", hook=len)
    b = OURS["Derived"]("n", hook=repr)
    assert a == b and hash(a) == hash(b)
    assert STDLIB["Derived"]("n", hook=len) == STDLIB["Derived"]("n", hook=repr)
    assert OURS["Derived"]("n") != OURS["Derived"]("m")


def test_defaults_stay_on_the_class_and_factories_make_new_values() -> None:
    for made in (STDLIB, OURS):
        cls = made["Defaults"]
        assert cls.b == "x" and cls.c == ()
        assert "d" not in vars(cls)  # a factory leaves no class attribute
        assert cls(1).d is not cls(1).d


def test_methods_the_class_writes_are_kept() -> None:
    assert repr(OURS["OwnMethods"](3)) == repr(STDLIB["OwnMethods"](3)) == "<3>"
    assert repr(OURS["Plain"](1, "b")) == "OurPlain(a=1, b='b')"


def test_mutable_classes_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(OURS["Mutable"]())


@given(
    st.tuples(st.text(max_size=3), st.integers(-3, 3), st.integers(-3, 3)),
    st.tuples(st.text(max_size=3), st.integers(-3, 3), st.integers(-3, 3)),
)
def test_order_is_the_standard_order(left: tuple[Any, ...], right: tuple[Any, ...]) -> None:
    s1, s2 = STDLIB["Ordered"](*left), STDLIB["Ordered"](*right)
    o1, o2 = OURS["Ordered"](*left), OURS["Ordered"](*right)
    assert [s1 < s2, s1 <= s2, s1 > s2, s1 >= s2, s1 == s2] == [
        o1 < o2,
        o1 <= o2,
        o1 > o2,
        o1 >= o2,
        o1 == o2,
    ]
    assert (hash(o1) == hash(o2)) >= (o1 == o2)
    with pytest.raises(TypeError):
        _ = o1 < OURS["Plain"](1, "b")


def test_the_package_classes_are_records() -> None:
    """Every value class the check path loads is made here, not by the standard
    library (tests/test_startup.py holds that dataclasses is not even imported)."""
    from conformance.capture import Capture
    from conformance.diagnostics import Diagnostic, Location
    from conformance.model import ParseResult
    from conformance.report.model import CaptureResult
    from conformance.rules.base import Rule

    for cls in (Capture, Diagnostic, Location, ParseResult, CaptureResult, Rule):
        assert not dataclasses.is_dataclass(cls)
        assert records.fields(cls)
    assert [f.name for f in records.fields(Location)] == ["path", "line", "column"]
    assert Location("a", 1) < Location("a", 2) < Location("b")


def test_no_module_of_the_package_imports_dataclasses_at_run_time() -> None:
    """Only type checkers see :mod:`dataclasses` (``if TYPE_CHECKING:``): a class made by
    the standard library would cost its compile time again, and ``dataclasses.replace``
    fails on the package's classes, which mypy cannot tell."""
    root = Path(conformance.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "records.py":  # falls back on it for standard dataclasses
            continue
        tree = ast.parse(path.read_text(), str(path))
        checked: set[ast.AST] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                checked.update(ast.walk(ast.Module(body=node.body, type_ignores=[])))
        for node in ast.walk(tree):
            names = (
                [node.module] if isinstance(node, ast.ImportFrom) else
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            )  # fmt: skip
            if "dataclasses" in names and node not in checked:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
