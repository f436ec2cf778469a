"""The JSON fhir.resources would give, without building its models (for bulk export).

`common.validated` runs a mapper's dict through `model.model_validate(...).model_dump(
mode="json", exclude_none=True)`: it checks the data and gives it the library's canonical
form, with each element in the order the FHIR specification declares
(`elements_sequence()`), `resourceType` first, nulls and empty lists left out, dateTime and
instant values as pydantic writes them ("Z" for UTC) and decimals as numbers. Building the
models costs milliseconds a resource, most of a bulk export's time. `canonical(model,
data)` gives the same JSON by walking the model classes' declared fields, once per class,
without creating instances. It does not check the data: the mappers' output is checked by
the validators in the tests (fhir.resources, the R4 JSON schema and Medplum's), and
`tests/fhir/test_export_canonical.py` asserts that `canonical` and `validated` give the
same text for every resource type. Whatever it does not know how to write exactly (a
primitive's `_extension` sibling, a contained resource, a value of an unexpected type)
raises `Unsupported`, and the caller validates that resource in full.
"""

from __future__ import annotations

import datetime
import decimal
import types
import typing
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import Date, DateTime, Decimal, FhirBase, Instant, Time, Url
from pydantic import AnyUrl, TypeAdapter
from pydantic_core import to_jsonable_python


class Unsupported(Exception):
    """Data this writer cannot render exactly as fhir.resources would."""


@dataclass(frozen=True)
class _Field:
    key: str  # the JSON name
    many: bool
    model: type[FHIRAbstractModel] | None  # a complex element's class
    kind: type | None  # a primitive's python type (str, int, bool)
    adapter: TypeAdapter[Any] | None  # dates, times, decimals, urls: the library's own parsing
    contained: bool = False  # any resource, by its resourceType


@dataclass(frozen=True)
class _Shape:
    resource_type: str | None
    fields: dict[str, tuple[int, _Field]]  # JSON name -> (place in the element order, field)


_CONVERTED = (Date, DateTime, Instant, Time, Decimal, Url)


def _unwrap(annotation: Any) -> tuple[bool, Any, tuple[Any, ...]]:
    """(is a list, the inner type, its Annotated metadata)."""
    many = False
    metadata: tuple[Any, ...] = ()
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:  # a url: AnyUrl or str, parsed by its adapter
                return many, typing.Union[tuple(args)], metadata  # noqa: UP007
            annotation = args[0]
        elif origin is list:
            many = True
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata += tuple(extra)
        elif origin is None:
            return many, annotation, metadata
        else:
            raise Unsupported(annotation)


@cache
def _shape(model: type[FHIRAbstractModel]) -> _Shape:
    aliases = model.get_alias_mapping()
    fields = []
    for element in model.elements_sequence():
        info = model.model_fields[aliases[element]]
        many, inner, metadata = _unwrap(info.annotation)
        key = info.alias or aliases[element]
        if isinstance(inner, type) and issubclass(inner, FhirBase):
            target = inner.get_model_klass()
            # A Resource-typed element (contained): its class is named by its resourceType.
            contained = target.has_resource_base()
            fields.append(
                _Field(key, many, None if contained else target, None, None, contained=contained)
            )
        elif any(isinstance(m, _CONVERTED) for m in metadata):
            annotated: Any = typing.Annotated[(inner, *metadata)]  # the element, one value
            fields.append(_Field(key, many, None, None, TypeAdapter[Any](annotated)))
        elif inner in (str, int, bool):
            fields.append(_Field(key, many, None, inner, None))
        else:
            fields.append(_Field(key, many, None, None, None))  # written by validation only
    resource_type = model.__resource_type__ if model.has_resource_base() else None
    return _Shape(resource_type, {f.key: (i, f) for i, f in enumerate(fields)})


def _primitive(field: _Field, value: Any) -> Any:
    if field.adapter is not None:
        parsed = field.adapter.validate_python(value)
        if isinstance(parsed, decimal.Decimal):  # FHIRAbstractModel._serialize_primitive_value
            exponent = parsed.as_tuple().exponent
            if (
                parsed.is_finite()
                and parsed == parsed.to_integral_value()
                and isinstance(exponent, int)
                and exponent >= 0
            ):
                return int(parsed)
            return float(parsed)
        if isinstance(parsed, datetime.date | datetime.time | str | AnyUrl):
            return to_jsonable_python(parsed)
        raise Unsupported(value)
    if field.kind is None or type(value) is not field.kind:  # bool is not an int here
        raise Unsupported(value)
    if value == "":  # FHIR strings are never empty: the check would refuse it
        raise Unsupported(value)
    return value


def _element(model: type[FHIRAbstractModel], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Unsupported(data)
    shape = _shape(model)
    out: dict[str, Any] = {}
    if shape.resource_type is not None:
        if data.get("resourceType", shape.resource_type) != shape.resource_type:
            raise Unsupported(data["resourceType"])
        out["resourceType"] = shape.resource_type
    try:  # the data's own keys, in the specification's order
        present = sorted(
            shape.fields[k] for k in data if k != "resourceType" or shape.resource_type is None
        )
    except KeyError as exc:
        raise Unsupported(exc.args) from exc
    for _, field in present:
        value = data[field.key]
        if value is None:
            continue
        if field.many:
            if not isinstance(value, list):
                raise Unsupported(value)
            if not value:
                continue
            out[field.key] = [_value(field, v) for v in value]
        else:
            out[field.key] = _value(field, value)
    if not out:
        raise Unsupported("an empty element")
    return out


def _value(field: _Field, value: Any) -> Any:
    if value is None or isinstance(value, uuid.UUID | bytes | bytearray):
        raise Unsupported(value)
    if field.model is not None:
        return _element(field.model, value)
    if field.contained:
        try:
            model = get_fhir_model_class(value["resourceType"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Unsupported(value) from exc
        return _element(model, value)
    return _primitive(field, value)


def canonical(model: type[FHIRAbstractModel], data: dict[str, Any]) -> dict[str, Any]:
    """`model.model_validate(data).model_dump(mode="json", exclude_none=True)`, unchecked;
    raises Unsupported where it cannot promise the same result."""
    return _element(model, data)
