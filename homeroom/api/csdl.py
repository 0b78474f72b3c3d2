"""The ``$metadata`` document (OData v4 CSDL XML) and the service document, generated from the read models
(``homeroom.api.entities``) and a surface's resources, so that they describe exactly what the routes answer.

Graph's layout is kept: industryData's collections are contained navigations of ``industryDataRoot``, reached
from the ``external`` singleton (``$metadata#external/industryData/dataConnectors``).
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import Any
from xml.etree import ElementTree as ET

from pydantic import BaseModel

from homeroom.api import entities
from homeroom.api.entities import GraphValue, graph_types, is_abstract, qualified_name

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
#: The schema aliases Graph declares.
ALIASES = {entities.GRAPH: "graph"}
_PRIMITIVES = {str: "Edm.String", bool: "Edm.Boolean", int: "Edm.Int32", datetime: "Edm.DateTimeOffset", date: "Edm.Date",
               dict: "Edm.Untyped"}

#: Bound actions and functions: (kind, name, bound to, parameters, return type).
OPERATIONS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...], str | None], ...] = (
    ("Function", "getUploadSession", "microsoft.graph.industryData.azureDataLakeConnector", (("resetSession", "Edm.Boolean"),),
     "microsoft.graph.industryData.fileUploadSession"),
    ("Action", "validate", "microsoft.graph.industryData.industryDataConnector", (), None),
    ("Action", "start", "Collection(microsoft.graph.industryData.industryDataRun)", (), None),
    ("Function", "getStatistics", "microsoft.graph.industryData.industryDataRun", (),
     "microsoft.graph.industryData.industryDataRunStatistics"),
    ("Function", "getStatistics", "Collection(microsoft.graph.industryData.industryDataRun)", (),
     "microsoft.graph.industryData.industryDataRunStatistics"),
    ("Action", "reset", "microsoft.graph.industryData.provisioningFlow", (), None),
)


def edm_type(annotation: Any) -> tuple[str, bool]:
    """The CSDL type of a field's annotation and whether it is nullable: ``list[str] | None`` -> ``Collection(Edm.String)``."""
    nullable = False
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        nullable = type(None) in args
        (annotation,) = [a for a in args if a is not type(None)]
    if typing.get_origin(annotation) is list:
        inner, _ = edm_type(typing.get_args(annotation)[0])
        return f"Collection({inner})", False
    if isinstance(annotation, type) and issubclass(annotation, (BaseModel, Enum)):
        return qualified_name(annotation), nullable
    return _PRIMITIVES[annotation], nullable


def _short(name: str) -> str:
    """A qualified name written with the schema alias Graph uses (``graph.entity``)."""
    inner = name[len("Collection("):-1] if name.startswith("Collection(") else name
    namespace, _, local = inner.rpartition(".")
    if namespace in ALIASES:
        inner = f"{ALIASES[namespace]}.{local}"
    return f"Collection({inner})" if name.startswith("Collection(") else inner


def _enums() -> list[type[Enum]]:
    found: dict[str, type[Enum]] = {}
    for model in graph_types():
        for field in model.own_fields().values():
            stack = [field.annotation]
            while stack:
                a = stack.pop()
                stack += typing.get_args(a)
                if isinstance(a, type) and issubclass(a, Enum):
                    found[qualified_name(a)] = a
    return list(found.values())


def _navigations(surface: Any, root: type[GraphValue]) -> dict[str, list[ET.Element]]:
    """NavigationProperty elements by the qualified name of the type that declares them."""
    out: dict[str, list[ET.Element]] = {}
    by_name = surface.resources
    contained = {n for r in by_name.values() for n, nav in r.navigations.items() if nav.many}
    for resource in by_name.values():
        for name, nav in resource.navigations.items():
            target = qualified_name(by_name[nav.target].entity)
            attrs = {"Name": name, "Type": _short(f"Collection({target})" if nav.many else target)}
            if nav.many:
                attrs["ContainsTarget"] = "true"
            out.setdefault(qualified_name(resource.entity), []).append(ET.Element(f"{{{EDM}}}NavigationProperty", attrs))
    root_navs = out.setdefault(qualified_name(root), [])
    for name, resource in by_name.items():
        if name not in contained:
            root_navs.append(ET.Element(f"{{{EDM}}}NavigationProperty", {
                "Name": name, "Type": _short(f"Collection({qualified_name(resource.entity)})"), "ContainsTarget": "true"}))
    out.setdefault(qualified_name(entities.External), []).append(ET.Element(f"{{{EDM}}}NavigationProperty", {
        "Name": "industryData", "Type": _short(qualified_name(root)), "ContainsTarget": "true"}))
    return out


def metadata_document(surface: Any, root: type[GraphValue] = entities.IndustryDataRoot) -> bytes:
    """The CSDL XML of a surface whose resources declare read models."""
    ET.register_namespace("edmx", EDMX)
    ET.register_namespace("", EDM)
    edmx = ET.Element(f"{{{EDMX}}}Edmx", {"Version": "4.0"})
    services = ET.SubElement(edmx, f"{{{EDMX}}}DataServices")
    schemas: dict[str, ET.Element] = {}

    def schema(namespace: str) -> ET.Element:
        if namespace not in schemas:
            attrs = {"Namespace": namespace, **({"Alias": ALIASES[namespace]} if namespace in ALIASES else {})}
            schemas[namespace] = ET.SubElement(services, f"{{{EDM}}}Schema", attrs)
        return schemas[namespace]

    for namespace in (entities.GRAPH, entities.INDUSTRY_DATA, entities.EXTERNAL_CONNECTORS):
        schema(namespace)
    for enum in _enums():
        namespace, _, name = qualified_name(enum).rpartition(".")
        element = ET.SubElement(schema(namespace), f"{{{EDM}}}EnumType", {"Name": name})
        for i, member in enumerate(enum):
            ET.SubElement(element, f"{{{EDM}}}Member", {"Name": member.value, "Value": str(i)})
    navigations = _navigations(surface, root)
    for model in graph_types():
        namespace, _, name = model.qualified_name().rpartition(".")
        is_entity = issubclass(model, entities.Entity)
        attrs = {"Name": name}
        base = next((b for b in model.__bases__ if issubclass(b, GraphValue) and b is not GraphValue), None)
        if base is not None:
            attrs["BaseType"] = _short(base.qualified_name())
        if is_abstract(model):
            attrs["Abstract"] = "true"
        if model is entities.IndustryDataRunStatistics:
            attrs["OpenType"] = "true"
        element = ET.SubElement(schema(namespace), f"{{{EDM}}}{'EntityType' if is_entity else 'ComplexType'}", attrs)
        if model is entities.Entity:
            ET.SubElement(ET.SubElement(element, f"{{{EDM}}}Key"), f"{{{EDM}}}PropertyRef", {"Name": "id"})
        for prop, field in model.own_fields().items():
            type_name, nullable = edm_type(field.annotation)
            ET.SubElement(element, f"{{{EDM}}}Property", {"Name": prop, "Type": _short(type_name),
                                                          **({} if nullable or type_name.startswith("Collection(") else
                                                             {"Nullable": "false"})})
        for nav in navigations.get(model.qualified_name(), []):
            element.append(nav)
    industry = schema(entities.INDUSTRY_DATA)
    for kind, name, bound, parameters, returns in OPERATIONS:
        element = ET.SubElement(industry, f"{{{EDM}}}{kind}", {"Name": name, "IsBound": "true"})
        ET.SubElement(element, f"{{{EDM}}}Parameter", {"Name": "bindingParameter", "Type": _short(bound)})
        for param, type_name in parameters:
            ET.SubElement(element, f"{{{EDM}}}Parameter", {"Name": param, "Type": type_name})
        if returns is not None:
            ET.SubElement(element, f"{{{EDM}}}ReturnType", {"Type": _short(returns)})
    container = ET.SubElement(schema(entities.GRAPH), f"{{{EDM}}}EntityContainer", {"Name": "GraphService"})
    ET.SubElement(container, f"{{{EDM}}}Singleton", {"Name": "external", "Type": qualified_name(entities.External)})
    return ET.tostring(edmx, encoding="utf-8", xml_declaration=True)


#: What the service document lists: the container's singletons (the industryData collections are contained in one).
SERVICE_ROOTS = ({"name": "external", "kind": "Singleton", "url": "external"},)
