"""Genesys query filters (``type``/``predicates``/``clauses``) compiled to plain predicates.

A compiled filter takes the dimension values an observation or conversation has
(a dict without the dimensions it lacks) and says whether it matches.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from .errors import bad_field

__all__ = ["Predicate", "compile_filter", "compile_filters"]

Predicate = Callable[[Mapping[str, str]], bool]


def compile_filter(spec: object, dimensions: Collection[str], field: str) -> Predicate:
    """Compile one filter object; 400 naming ``field`` when it is malformed or unsupported."""
    if not isinstance(spec, dict):
        raise bad_field(field, f"{field} must be an object")
    kind = spec.get("type")
    if kind not in ("and", "or"):
        raise bad_field(field, f"{field}.type must be 'and' or 'or', got {kind!r}")
    parts = [_predicate(p, dimensions, field) for p in _list(spec, "predicates", field)]
    parts += [compile_filter(c, dimensions, field) for c in _list(spec, "clauses", field)]
    if not parts:
        raise bad_field(field, f"{field} needs at least one predicate or clause")
    if kind == "and":
        return lambda dims: all(part(dims) for part in parts)
    return lambda dims: any(part(dims) for part in parts)


def compile_filters(specs: object, dimensions: Collection[str], field: str) -> Predicate | None:
    """Compile a list of filters that must all match (details ``segmentFilters`` and the like)."""
    if specs is None or specs == []:
        return None
    if not isinstance(specs, list):
        raise bad_field(field, f"{field} must be a list")
    parts = [compile_filter(spec, dimensions, field) for spec in specs]
    return lambda dims: all(part(dims) for part in parts)


def _list(spec: Mapping[str, Any], key: str, field: str) -> list[Any]:
    value = spec.get(key) or []
    if not isinstance(value, list):
        raise bad_field(field, f"{field}.{key} must be a list")
    return value


def _predicate(spec: object, dimensions: Collection[str], field: str) -> Predicate:
    if not isinstance(spec, dict):
        raise bad_field(field, f"{field} predicates must be objects")
    if spec.get("type", "dimension") != "dimension" or "range" in spec:
        raise bad_field(field, f"only dimension predicates are supported, got {spec!r}")
    dim = spec.get("dimension")
    if dim not in dimensions:
        raise bad_field(field, f"Unknown or unsupported dimension {dim!r}; supported: {sorted(dimensions)}")
    return _operator(str(dim), spec.get("operator", "matches"), spec.get("value"), field)


def _operator(dim: str, operator: object, value: object, field: str) -> Predicate:
    if operator == "exists":
        return lambda dims: dim in dims
    if operator == "notExists":
        return lambda dims: dim not in dims
    if operator != "matches":
        raise bad_field(field, f"Unsupported operator {operator!r}; use matches, exists or notExists")
    if not isinstance(value, str):
        raise bad_field(field, f"predicate on {dim!r} needs a string value")
    return lambda dims: dims.get(dim) == value
