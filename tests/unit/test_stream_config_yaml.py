"""The streams YAML file: defaults merged into cameras, what dump_config writes, and errors that name the line
and field of every problem (422), including YAML the loader must refuse (aliases, tags, deep nesting)."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from api.core.errors import ValidationFailed
from api.streams import config_yaml
from api.streams.config_yaml import dump_config, parse_config
from api.streams.schemas import Line, OscSink, Sinks, StreamCreate, Zone

EXAMPLE = """\
service:
  model: 3
  device: cpu
tracking:
  conf: 0.3
  classes: [circle]
  max_fps: 15
osc:
  port: 7000
cameras:
  - name: door
    source: rtsp://10.0.0.5/stream1
    roi: [0, 0, 1, 0.5]
    zones: [{name: shelf, points: [[0, 0], [0.5, 0], [0.5, 0.5]]}]
    lines: [{name: gate, start: [0.5, 0], end: [0.5, 1]}]
    model: 4
    tracking: {conf: 0.5}
    osc: {port: 7001}
  - name: yard
    source: rtsp://10.0.0.6/stream1
    enabled: false
    device: 0
    osc: null
"""


def problems(text: str) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ValidationFailed) as caught:
        parse_config(textwrap.dedent(text))
    assert caught.value.status_code == 422
    return [(p["field"], p["line"], p["message"]) for p in caught.value.details["fields"]]


@pytest.fixture(params=["libyaml", "pure"], autouse=True)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with libyaml (where built in) and with PyYAML's pure-Python loader."""
    if request.param == "pure":
        monkeypatch.setattr(config_yaml, "_LOADER", yaml.SafeLoader)


def test_cameras_take_the_defaults_and_override_them() -> None:
    door, yard = parse_config(EXAMPLE)
    assert door == StreamCreate(
        name="door", source="rtsp://10.0.0.5/stream1", model=4, device="cpu", conf=0.5, classes=["circle"],
        max_fps=15, roi=(0, 0, 1, 0.5), zones=[Zone(name="shelf", points=[(0, 0), (0.5, 0), (0.5, 0.5)])],
        lines=[Line(name="gate", start=(0.5, 0), end=(0.5, 1))], sinks=Sinks(osc=OscSink(port=7001)))
    assert yard == StreamCreate(name="yard", source="rtsp://10.0.0.6/stream1", model=3, device="0", conf=0.3,
                                classes=["circle"], max_fps=15, enabled=False, sinks=Sinks(osc=None))


def test_without_an_osc_section_a_camera_turns_osc_on_with_its_own_keys() -> None:
    first, second = parse_config(textwrap.dedent("""\
        cameras:
          - {name: a, source: rtsp://a, model: 1}
          - {name: b, source: rtsp://b, model: 1, osc: {port: 9000}}
        """))
    assert first.sinks.osc is None and first.enabled is True
    assert second.sinks.osc == OscSink(port=9000)


def test_dump_puts_shared_values_in_the_defaults_and_only_differences_in_cameras() -> None:
    same = {"model": 3, "conf": 0.3, "sinks": Sinks(osc=OscSink(port=7001))}
    streams = [StreamCreate(name="a", source="rtsp://a", **same), StreamCreate(name="b", source="rtsp://b", **same),
               StreamCreate(name="c", source="rtsp://c", model=4, conf=0.3, enabled=False)]
    doc = yaml.safe_load(dump_config(streams))
    assert doc["service"] == {"model": 3, "device": "cpu"}
    assert doc["tracking"]["conf"] == 0.3 and "max_fps" not in doc["tracking"]
    assert doc["osc"] == {"host": "127.0.0.1", "port": 7001, "address_prefix": "/yolo/", "channel_format": "per_slot"}
    assert doc["cameras"] == [{"name": "a", "source": "rtsp://a"}, {"name": "b", "source": "rtsp://b"},
                              {"name": "c", "source": "rtsp://c", "enabled": False, "model": 4, "osc": None}]
    assert parse_config(dump_config(streams)) == streams
    assert parse_config(dump_config([])) == []


def test_a_wrong_value_names_the_camera_field_and_line() -> None:
    text = EXAMPLE.replace("tracking: {conf: 0.5}", "tracking: {conf: 5}")
    assert problems(text) == [("cameras[0].tracking.conf", 17, "Input should be less than or equal to 1")]


def test_a_wrong_default_is_reported_once_at_its_line_even_with_no_camera() -> None:
    assert problems(EXAMPLE.replace("max_fps: 15", "max_fps: fast")) == [
        ("tracking.max_fps", 7, "Input should be a valid number, unable to parse string as a number")]
    assert problems("tracking:\n  iou: -1\ncameras: []\n") == [
        ("tracking.iou", 2, "Input should be greater than or equal to 0")]


def test_every_problem_is_listed_in_line_order() -> None:
    found = problems("""\
        service: {model: 1}
        cameras:
          - name: a
            source: ftp://a
            zones:
              - name: z
                points: [[0, 0], [2, 0]]
                colour: red
          - name: b
            source: rtsp://b
            osc: {port: 0}
        """)
    assert found == [
        ("cameras[0].source", 4, "Value error, must start with one of video:, rtsp://, rtsps://, http://, https://, "
                                 "device:"),
        ("cameras[0].zones[0].points[1][0]", 7, "Input should be less than or equal to 1"),
        ("cameras[0].zones[0].colour", 8, "Extra inputs are not permitted"),
        ("cameras[1].osc.port", 11, "Input should be greater than or equal to 1"),
    ]
    with pytest.raises(ValidationFailed) as caught:
        parse_config(textwrap.dedent("cameras:\n  - {name: a, source: rtsp://a, model: 1, conf: 2}\n  - x: 1\n"))
    assert caught.value.message.startswith("Invalid config: line 2: cameras[0].conf: unknown key; it goes under tracking")
    assert caught.value.message.endswith("(and 4 more)")  # cameras[1]: x is unknown; name, source, model missing
    assert caught.value.details["total"] == 5


def test_unknown_keys_are_named_with_their_line() -> None:
    assert problems("servic: {model: 1}\ncameras: []\n") == [
        ("servic", 1, "unknown key; expected one of service, tracking, osc, cameras")]
    assert problems(EXAMPLE.replace("    tracking: {conf: 0.5}", "    tracking: {conf: 0.5, zones: []}"))[0][:2] == \
        ("cameras[0].tracking.zones", 17)
    assert problems(EXAMPLE.replace("osc:\n  port: 7000", "osc:\n  port: 7000\n  hots: x"))[0][:2] == ("osc.hots", 10)


def test_a_camera_without_a_model_anywhere_is_refused_at_its_line() -> None:
    assert problems("cameras:\n  - name: a\n    source: rtsp://a\n") == [("cameras[0].model", 2, "Field required")]


def test_duplicate_camera_names_and_a_roi_given_twice_are_refused() -> None:
    found = problems("""\
        service: {model: 1}
        cameras:
          - {name: a, source: rtsp://a}
          - {name: a, source: rtsp://b, roi: [0, 0, 1, 1], tracking: {roi: [0, 0, 1, 1]}}
        """)
    assert found == [("cameras[1].name", 4, "duplicate camera name (also cameras[0])"),
                     ("cameras[1].tracking.roi", 4, "roi is given twice (also at the camera level)")]


@pytest.mark.parametrize(("text", "expected"), [
    ("", ("", 1, "must be a mapping with a cameras list")),
    ("- a\n- b\n", ("", 1, "must be a mapping with a cameras list")),
    ("service: {model: 1}\n", ("", 1, "must be a mapping with a cameras list")),
    ("service: {model: 1}\ncameras: {a: 1}\n", ("cameras", 2, "must be a list")),
    ("cameras:\n  - 5\n", ("cameras[0]", 2, "must be a mapping")),
    ("cameras: []\ntracking: [1]\n", ("tracking", 2, "must be a mapping")),
])
def test_the_shape_of_the_file_is_checked(text: str, expected: tuple[str, int, str]) -> None:
    assert problems(text) == [expected]


@pytest.mark.parametrize(("text", "field", "line", "start"), [
    ("cameras: [\n  {name: a\n", "", 3, "YAML syntax: "),
    ("cameras: []\nservice:\n\tmodel: 1\n", "", 3, "YAML syntax: "),
    ("cameras: []\n---\ncameras: []\n", "", 2, "YAML syntax: expected a single document"),
    ("cameras: []\n# é\nservice: {model: \x01}\n", "", 3, "YAML: "),
    ("base: &b {model: 1}\ncameras:\n  - *b\n", "", 3, "aliases (*name) are not supported"),
    ("cameras:\n  - !!python/object/apply:os.system [echo]\n", "cameras[0]", 2,
     "the tag tag:yaml.org,2002:python/object/apply:os.system is not supported"),
    ("cameras:\n  - name: !!binary aGk=\n", "cameras[0].name", 2, "the tag tag:yaml.org,2002:binary is not supported"),
    ("cameras: []\nservice:\n  <<: {model: 1}\n", "service", 3, "merge keys (<<) are not supported"),
    ("cameras: []\n" + "x: " + "[" * 40 + "]" * 40 + "\n", "", 2, "nested deeper than 32 levels"),
    ("cameras: []\nservice:\n  model: " + "1" * 5000 + "\n", "service.model", 3, "not a usable value"),
])
def test_yaml_that_is_broken_or_refused_names_its_line(text: str, field: str, line: int, start: str) -> None:
    [(found_field, found_line, message)] = problems(text)
    assert (found_field, found_line) == (field, line) and message.startswith(start)


def test_duplicate_and_non_text_keys_name_their_line() -> None:
    assert problems("cameras: []\nservice:\n  model: 1\n  model: 2\n") == [("service.model", 4, "duplicate key")]
    assert problems("cameras: []\nservice:\n  1: 2\n") == [("service", 3, "keys must be text, not 1")]


def test_a_file_over_one_mebibyte_is_refused_before_parsing() -> None:
    assert problems("cameras: []\n" + "#" * (1 << 20)) == [("", None, "the file is over 1048576 bytes")]
    assert problems("cameras: []\n#" + "é" * (1 << 19)) == [("", None, "the file is over 1048576 bytes")]


def test_a_gpu_index_may_be_written_as_a_number() -> None:
    [stream] = parse_config("service: {model: 1, device: 1}\ncameras: [{name: a, source: 'device:0'}]\n")
    assert stream.device == "1"
