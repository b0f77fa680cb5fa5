"""Any list of valid stream definitions (unique names) survives dump_config -> parse_config unchanged, whatever
the text in names, sources and classes (quotes, YAML look-alikes such as `yes` or `1_0`, escapes) and whichever
values the cameras share; and dumping what was parsed gives the same file."""

from __future__ import annotations

import re
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from api.core.schemas import MAX_ID
from api.streams.config_yaml import dump_config, parse_config
from api.streams.schemas import _HOSTNAME, NAME_PATTERN, ChannelFormat, Line, OscSink, StreamCreate, Tracker, Zone

# YAML's own words and look-alikes mixed into any text, so the dumper's quoting is exercised.
TRICKY = st.sampled_from(["yes", "No", "null", "~", "1_0", "0o17", "0x1F", "1e3", ".inf", "2024-01-01", "- a", "a: b",
                          "#x", "'q'", '"q"', "&a", "*a", "!t", "<<", "a\x85b", "a\u2028b", "\ufeff", "é", "名前"])
units = st.floats(0.0, 1.0)
points = st.tuples(units, units)


def text(min_size: int, max_size: int, forbidden: str = "") -> st.SearchStrategy[str]:
    chars = st.characters(exclude_characters=forbidden, exclude_categories=("Cs",))
    return (TRICKY.filter(lambda t: not set(t) & set(forbidden)) | st.text(chars, min_size=min_size, max_size=max_size))


def shared(pool: list[object], anything: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Mostly a few common values (so the defaults sections matter), sometimes anything valid."""
    return st.sampled_from(pool) | anything


CONTROL = "".join(map(chr, range(0x20))) + "\x7f"
NAME = re.compile(NAME_PATTERN)
names = text(1, 20, CONTROL).filter(lambda t: NAME.fullmatch(t) is not None)
sources = st.one_of(st.from_regex(r"video:[1-9][0-9]{0,17}|device:[0-9]{1,3}", fullmatch=True),
                    st.tuples(st.sampled_from(["rtsp://", "rtsps://", "http://", "https://"]),
                              text(0, 30, CONTROL + " ")).map("".join))
rois = st.tuples(units, units, units, units).filter(lambda r: r[0] < r[2] and r[1] < r[3])
zones = st.builds(Zone, name=names, points=st.lists(points, min_size=3, max_size=5))
lines = st.tuples(names, points, points).filter(lambda t: t[1] != t[2]).map(
    lambda t: Line(name=t[0], start=t[1], end=t[2]))
oscs = st.builds(
    OscSink, host=shared(["127.0.0.1", "td.local"], st.ip_addresses().map(str) | st.from_regex(_HOSTNAME, fullmatch=True)),
    port=shared([7000, 7001], st.integers(1, 65535)),
    address_prefix=shared(["/yolo/"], text(0, 20, " #*,?[]{}").map(lambda s: "/" + s)),
    channel_format=st.sampled_from(get_args(ChannelFormat)))
streams = st.builds(
    StreamCreate, name=names, source=sources, model=shared([3, 4], st.integers(1, MAX_ID)), enabled=st.booleans(),
    conf=shared([0.25, 0.3], units), iou=shared([0.7], units),
    classes=shared([None, ["circle"]], st.none() | st.lists(text(1, 10, CONTROL), max_size=3)),
    roi=shared([None, (0.0, 0.0, 1.0, 1.0)], rois), period_frames=shared([1], st.integers(1, 1000)),
    max_fps=shared([None, 15.0], st.floats(0, 1000, exclude_min=True)), tracker=st.sampled_from(get_args(Tracker)),
    objects_max=shared([8], st.integers(1, 256)), persistence_ms=shared([1000], st.integers(0, 600_000)),
    zones=st.lists(zones, max_size=2, unique_by=lambda z: z.name),
    lines=st.lists(lines, max_size=2, unique_by=lambda line: line.name),
    sinks=st.builds(dict, osc=st.none() | oscs | st.just(OscSink())),
    device=shared(["cpu", "0"], st.from_regex(r"cpu|auto|[0-9]{1,2}", fullmatch=True)))


@given(st.lists(streams, max_size=5, unique_by=lambda stream: stream.name))
@settings(max_examples=150, deadline=None)
def test_dump_then_parse_gives_the_same_streams(items: list[StreamCreate]) -> None:
    text = dump_config(items)
    parsed = parse_config(text)
    assert parsed == items
    assert dump_config(parsed) == text
