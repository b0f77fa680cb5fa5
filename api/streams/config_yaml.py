"""All stream definitions as one hand-editable YAML file: defaults sections (service, tracking, osc) plus a
list of cameras that state only what differs. Errors name the YAML line and field so a person can fix them."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor

from api.core.errors import ValidationFailed
from api.streams.schemas import OscSink, StreamCreate, TrackingSettings

MAX_BYTES = 1 << 20
MAX_PROBLEMS = 100  # listed in details; the message still says how many there were
MAX_DEPTH = 32  # the deepest real value is cameras[i].zones[j].points[k][0]: depth 7
SERVICE_KEYS = ("model", "device")
TRACKING_KEYS = tuple(k for k in TrackingSettings.model_fields if k not in ("sinks", "zones", "lines", "device"))
OSC_KEYS = tuple(OscSink.model_fields)
CAMERA_KEYS = ("name", "source", "enabled", "roi", "zones", "lines", *SERVICE_KEYS, "tracking", "osc")
TOP_KEYS = ("service", "tracking", "osc", "cameras")
SCALAR_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str")}
Path = tuple[str | int, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where built in: a 1 MiB file in 1 s, not 5


class _Refused(Exception):
    def __init__(self, line: int | None, message: str, kind: str, path: Path = ()) -> None:
        super().__init__(message)
        self.line, self.message, self.kind, self.path = line, message, kind, path


class _Dumper(yaml.SafeDumper):
    """Block mappings, flow lists of scalars (roi, points), and no raw NEL/LS/PS that a reader would fold away."""

    def represent_str(self, data: str) -> yaml.Node:
        style = '"' if any(c in data for c in "\x85\u2028\u2029") else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    def represent_list(self, data: list[Any]) -> yaml.Node:
        flat = not any(isinstance(x, dict) or isinstance(x, list) and any(isinstance(y, dict | list) for y in x)
                       for x in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_Dumper.add_representer(str, _Dumper.represent_str)
_Dumper.add_representer(list, _Dumper.represent_list)


def dump_config(streams: list[StreamCreate]) -> str:
    """YAML of all definitions: defaults sections take the values most cameras share; each camera lists only what
    differs."""
    rows = [stream.model_dump(mode="json") for stream in streams]
    doc: dict[str, Any] = {}
    if rows:
        doc["service"] = {key: _common([row[key] for row in rows]) for key in SERVICE_KEYS}
        common = {key: _common([row[key] for row in rows]) for key in TRACKING_KEYS}
        doc["tracking"] = {key: value for key, value in common.items()  # a null default goes without saying
                           if value is not None or _default(TrackingSettings, key) is not None}
        oscs = [row["sinks"]["osc"] for row in rows if row["sinks"]["osc"] is not None]
        if len(oscs) * 2 > len(rows):
            doc["osc"] = {key: _common([osc[key] for osc in oscs]) for key in OSC_KEYS}
    doc["cameras"] = [_camera_entry(row, doc) for row in rows]
    return "# Stream definitions: service, tracking and osc hold defaults; each camera overrides what differs.\n" + \
        yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)


def _common(values: list[Any]) -> Any:
    """The most frequent value (the first seen among equals), compared by its JSON form."""
    counts = Counter(json.dumps(value, sort_keys=True) for value in values)
    return json.loads(counts.most_common(1)[0][0])


def _default(model: type[TrackingSettings] | type[OscSink], key: str) -> Any:
    return model.model_fields[key].get_default(call_default_factory=True)


def _camera_entry(row: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    tracking = {key: doc["tracking"].get(key, _default(TrackingSettings, key)) for key in TRACKING_KEYS}
    entry: dict[str, Any] = {"name": row["name"], "source": row["source"]}
    entry |= {} if row["enabled"] else {"enabled": False}
    entry |= {"roi": row["roi"]} if row["roi"] != tracking["roi"] else {}
    entry |= {key: row[key] for key in ("zones", "lines") if row[key]}
    entry |= {key: row[key] for key in SERVICE_KEYS if row[key] != doc["service"][key]}
    if changed := {key: row[key] for key in TRACKING_KEYS if key != "roi" and row[key] != tracking[key]}:
        entry["tracking"] = changed
    osc, base = row["sinks"]["osc"], doc.get("osc")
    if osc is None:
        entry |= {} if base is None else {"osc": None}
    else:
        defaults = base or {key: _default(OscSink, key) for key in OSC_KEYS}
        changed = {key: value for key, value in osc.items() if value != defaults[key]}
        entry |= {"osc": changed} if changed or base is None else {}
    return entry


def parse_config(text: str) -> list[StreamCreate]:
    """Validates; raises ValidationFailed (422) whose details.fields name the line (1-based) and field of every
    problem; problems with the whole document have the field "" (and line None for its size)."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _failed([_problem("", None, f"the file is over {MAX_BYTES} bytes", "too_large")])
    try:
        doc = _Document(text)
    except _Refused as exc:
        raise _failed([_problem(_field(exc.path), exc.line, exc.message, exc.kind)]) from None
    return _Builder(doc).streams()


class _Document:
    """The YAML as plain Python values, plus the line of every key and list item (for error messages)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path, int] = {(): 1}
        try:
            _check_events(text)
            loader = _LOADER(text)
            try:
                node = loader.get_single_node()
                self.value = None if node is None else self._read(loader, node, ())
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = "; ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
            raise _Refused(mark.line + 1 if mark else None, f"YAML syntax: {what}", "yaml_syntax") from None
        except yaml.reader.ReaderError as exc:  # a control character: no mark, a position in characters (libyaml: bytes)
            head = text[:exc.position] if _LOADER is yaml.SafeLoader else text.encode("utf-8")[:exc.position].decode()
            raise _Refused(head.count("\n") + 1, f"YAML: {exc.reason}", "yaml_syntax") from None
        except UnicodeEncodeError as exc:  # libyaml reads UTF-8: a lone surrogate cannot be passed on
            raise _Refused(text.count("\n", 0, exc.start) + 1, "not valid text (a lone surrogate)", "yaml_syntax") from None

    def line(self, path: Path) -> int:
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]

    def _read(self, loader: SafeConstructor, node: yaml.Node, path: Path) -> Any:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode) and node.tag == "tag:yaml.org,2002:map":
            return self._read_mapping(loader, node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == "tag:yaml.org,2002:seq":
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self._read(loader, item, (*path, index)))
            return items
        if isinstance(node, yaml.ScalarNode) and node.tag in SCALAR_TAGS:
            try:
                return loader.construct_object(node)
            except ValueError as exc:  # an integer of more than 4300 digits
                raise _Refused(line, f"not a usable value: {exc}", "yaml_value", path) from None
        hint = "merge keys (<<) are" if node.tag.endswith(":merge") else f"the tag {node.tag} is"
        raise _Refused(line, f"{hint} not supported (quote the value if it is text)", "yaml_tag", path)

    def _read_mapping(self, loader: SafeConstructor, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = self._read(loader, key_node, path)
            if not isinstance(key, str):
                raise _Refused(line, f"keys must be text, not {key!r}", "yaml_key", path)
            if key in result:
                raise _Refused(line, "duplicate key", "yaml_duplicate_key", (*path, key))
            self.lines[(*path, key)] = line
            result[key] = self._read(loader, value_node, (*path, key))
        return result


def _check_events(text: str) -> None:
    """Refuse aliases outright (no alias-expansion bombs; shared values belong in the defaults sections) and nesting
    deep enough to exhaust the recursive composer, from the flat event stream, before anything is composed."""
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(line, "aliases (*name) are not supported: put shared values in the service, tracking or "
                                 "osc sections", "yaml_alias")
        depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
        if depth > MAX_DEPTH:
            raise _Refused(line, f"nested deeper than {MAX_DEPTH} levels", "yaml_depth")


class _Builder:
    """Checks the shape, merges defaults into each camera, validates with StreamCreate, collects every problem."""

    def __init__(self, doc: _Document) -> None:
        self.doc = doc
        self.problems: dict[tuple[str, int, str], dict[str, Any]] = {}  # a bad default shows once, not per camera

    def streams(self) -> list[StreamCreate]:
        value = self.doc.value
        if not isinstance(value, dict) or not isinstance(value.get("cameras"), list):
            where: Path = ("cameras",) if isinstance(value, dict) and "cameras" in value else ()
            self._add(where, "must be a list" if where else "must be a mapping with a cameras list", "type")
            raise _failed(list(self.problems.values()))
        top = self._mapping(value, (), TOP_KEYS)
        defaults = {key: self._mapping(top.get(key), (key,), keys) for key, keys in
                    (("service", SERVICE_KEYS), ("tracking", TRACKING_KEYS), ("osc", OSC_KEYS))}
        defaults["osc"] = defaults["osc"] if top.get("osc") is not None else None
        self._build(defaults, {}, None)  # problems in the defaults themselves, even with no camera
        streams = [self._build(defaults, camera, index) for index, camera in enumerate(top["cameras"])]
        self._unique_names(top["cameras"])
        if self.problems:
            raise _failed(list(self.problems.values()))
        return [stream for stream in streams if stream is not None]

    def _mapping(self, value: Any, path: Path, allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._add(path, "must be a mapping", "type")
            return {}
        for key in value:
            if key not in allowed:
                hint = "; it goes under tracking" if key in TRACKING_KEYS and "tracking" in allowed else ""
                self._add((*path, key), f"unknown key{hint}; expected one of {', '.join(allowed)}", "unknown_key")
        return {key: item for key, item in value.items() if key in allowed}

    def _build(self, defaults: dict[str, Any], camera: Any, index: int | None) -> StreamCreate | None:
        at: Path = ("cameras", index) if index is not None else ()
        if index is not None and not isinstance(camera, dict):
            return self._add(at, "must be a mapping", "type")
        camera = self._mapping(camera, at, CAMERA_KEYS)
        overrides = self._mapping(camera.get("tracking"), (*at, "tracking"), TRACKING_KEYS)
        if "roi" in camera and "roi" in overrides:
            self._add((*at, "tracking", "roi"), "roi is given twice (also at the camera level)", "value_error")
        origin: dict[Path, Path] = {}
        data: dict[str, Any] = {}
        for source, path in ((defaults["tracking"], ("tracking",)), (defaults["service"], ("service",)),
                             (overrides, (*at, "tracking")),
                             ({k: v for k, v in camera.items() if k not in ("tracking", "osc")}, at)):
            for key, value in source.items():
                data[key], origin[(key,)] = _coerced(key, value), (*path, key)
        data["sinks"] = {"osc": self._osc(defaults["osc"], camera, at, origin)}
        if index is None:
            data |= {"name": "defaults", "source": "rtsp://defaults"}
        try:
            return StreamCreate.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                prefix = max((p for p in origin if loc[:len(p)] == p), key=len, default=())
                path = (*origin[prefix], *loc[len(prefix):]) if prefix else (*at, *loc)
                if index is not None or prefix:  # the defaults alone lack a name, source and maybe a model
                    self._add(path, error["msg"], error["type"])
            return None

    def _osc(self, base: dict[str, Any] | None, camera: dict[str, Any], at: Path,
             origin: dict[Path, Path]) -> dict[str, Any] | None:
        own = "osc" in camera
        if (own and camera["osc"] is None) or (not own and base is None):
            return None
        mine = self._mapping(camera.get("osc"), (*at, "osc"), OSC_KEYS)
        origin[("sinks", "osc")] = (*at, "osc") if own else ("osc",)
        origin |= {("sinks", "osc", key): ("osc", key) for key in base or {}}
        origin |= {("sinks", "osc", key): (*at, "osc", key) for key in mine}
        return {**(base or {}), **mine}

    def _unique_names(self, cameras: list[Any]) -> None:
        first: dict[str, int] = {}
        for index, camera in enumerate(cameras):
            name = camera.get("name") if isinstance(camera, dict) else None
            if isinstance(name, str) and first.setdefault(name, index) != index:
                self._add(("cameras", index, "name"), f"duplicate camera name (also cameras[{first[name]}])", "duplicate")

    def _add(self, path: Path, message: str, kind: str) -> None:
        field, line = _field(path), self.doc.line(path)
        self.problems.setdefault((field, line, message), _problem(field, line, message, kind))


def _coerced(key: str, value: Any) -> Any:
    """`device: 0` is how people write a GPU index in YAML; the schema wants the text "0"."""
    return str(value) if key == "device" and isinstance(value, int) and not isinstance(value, bool) else value


def _field(path: Path) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _problem(field: str, line: int | None, message: str, kind: str) -> dict[str, Any]:
    return {"field": field, "line": line, "message": message, "type": kind}


def _failed(problems: list[dict[str, Any]]) -> ValidationFailed:
    problems = sorted(problems, key=lambda p: (p["line"] or 0, p["field"]))
    first = problems[0]
    where = f"line {first['line']}: " if first["line"] else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ValidationFailed(f"Invalid config: {where}{first['field'] or 'document'}: {first['message']}{more}",
                            details={"fields": problems[:MAX_PROBLEMS], "total": len(problems)})
