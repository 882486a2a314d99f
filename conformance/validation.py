"""The fast validation engine: a compiled jsonschema-rs validator that only says yes or no.

python-jsonschema is the reference engine: it explains every failure, and the diagnostics
are made from its errors. It is also slow (about 5 ms for a meminfo instance, most of the
time of a ``check``). jsonschema-rs, a Rust implementation of draft 2020-12, answers the
question most instances ask (is it valid?) in microseconds, so :mod:`conformance.schemas`
asks it first and calls python-jsonschema only when it says no: valid instances cost no
python-jsonschema work, invalid ones get the same diagnostics as before.

The fast engine is optional, per schema and per instance: :func:`build` gives ``None``
when jsonschema-rs is not installed (no wheel for the platform) or cannot load a schema
(the last release for Python 3.9 cannot represent the u64 bounds our schemas state), and
:meth:`FastValidator.verdict` gives ``None`` for a value it cannot represent (an integer
beyond 64 bits); the caller then asks python-jsonschema. ``BALLOON_CONFORM_VALIDATOR=python``
in the environment turns the fast engine off.

Formats are annotations here, as in python-jsonschema without a format checker, and
unknown keywords (``x-unit``, ``x-invariant``, ``x-rule``) are ignored by both engines;
the suite checks that both give the same verdict on the corpus and its mutations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from .records import dataclass

ENGINE_VARIABLE = "BALLOON_CONFORM_VALIDATOR"
"""Environment variable choosing the engines: ``python`` turns the fast one off;
anything else (or nothing) uses it where it loads."""


def enabled() -> bool:
    """Whether the environment allows the fast engine (read on every call, so a test or
    a long-lived process can turn it off without clearing caches)."""
    return os.environ.get(ENGINE_VARIABLE, "auto").strip().lower() != "python"


@dataclass(frozen=True)
class FastValidator:
    """A compiled jsonschema-rs validator of one schema."""

    compiled: Any

    def verdict(self, instance: Any) -> bool | None:
        """True when ``instance`` is valid, False when it is not, None when this engine
        cannot tell (a value it cannot hold): then only the reference engine can."""
        try:
            return bool(self.compiled.is_valid(instance))
        except Exception:  # jsonschema-rs raises ValueError/OverflowError, types vary by release
            return None


def import_engine() -> Any:
    """The ``jsonschema_rs`` module, or None where it is not installed.

    Its Rust start-up imports the standard ``decimal`` module and panics (a Rust panic
    message, then an exception that names no Ctrl-C) if anything interrupts that import.
    Imported here first, from Python, ``decimal`` is already loaded by then, and a Ctrl-C
    that lands during its import is an ordinary ``KeyboardInterrupt``."""
    import decimal  # noqa: F401 - before jsonschema_rs, which imports it anyway

    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs


def build(schema: Mapping[str, Any], retrieve: Callable[[str], Any]) -> FastValidator | None:
    """A fast validator of ``schema`` whose ``$ref`` to other documents are resolved by
    ``retrieve`` (absolute URI to document; it raises for an unknown one, since the
    network is never asked); None when jsonschema-rs is missing or cannot load it."""
    jsonschema_rs = import_engine()
    if jsonschema_rs is None:
        return None

    stopped: list[BaseException] = []

    def guarded(uri: str) -> Any:
        # a Ctrl-C (or SIGTERM's exception) inside this callback reaches jsonschema-rs,
        # which would report it as a schema it cannot load: keep it to raise it here
        try:
            return retrieve(uri)
        except Exception:
            raise
        except BaseException as exc:
            stopped.append(exc)
            raise

    try:
        compiled = jsonschema_rs.validator_for(
            dict(schema), validate_formats=False, retriever=guarded
        )
    except Exception:  # no u64 in old releases, keywords a release does not know ...
        compiled = None
    if stopped:
        raise stopped[0]
    return None if compiled is None else FastValidator(compiled)
