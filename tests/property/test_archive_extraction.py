"""Random zip trees with hostile names never write outside the staging folder: safe_extract either refuses
the archive with one of its client errors or extracts exactly the entries it holds, strictly inside."""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from pathlib import Path, PurePosixPath

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from api.registry.datasets.archive_safety import safe_extract
from tests.archives import symlink_entry, zip_with_entries

OUTSIDE = "/outside"  # stands for the sibling folder of the staging dir, filled in per example
benign = st.sampled_from(["a", "b", "images", "labels", "data.yaml", "x.jpg"])
components = st.one_of(
    benign, benign, benign,
    st.sampled_from(["..", ".", "", "C:", "c:x", "..\\..\\x", "~", "ü", "名前.jpg", "a\x00b", " ", "...", "con",
                     "x" * 255, "é" * 128]),
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12),
)
relative = st.lists(components, min_size=1, max_size=4).map("/".join)
deep = st.integers(2, 32).map(lambda depth: "/".join(["d" * 250] * depth) + "/f.txt")
names = st.one_of(
    relative, relative, relative, relative, relative.map(lambda name: name + "/"), deep,
    st.sampled_from(["/", "C:/", "c:", "\\", "\\\\server\\share\\", "../", "./../", OUTSIDE + "/", "../outside/"])
    .flatmap(lambda prefix: relative.map(lambda name: prefix + name)),
).filter(lambda name: name.split("\x00")[0] != "")  # zipfile cuts a name at NUL and cannot write an empty one
# (name, kind, payload): kind "file", or "link" to a target outside
entries = st.lists(st.tuples(names, st.sampled_from(["file"] * 9 + ["link"]), st.binary(max_size=32)),
                   min_size=1, max_size=6)
REFUSALS = (ValidationFailed, UnsupportedMediaType, PayloadTooLarge)


def build_zip(root: Path, raw: list[tuple[str, str, bytes]]) -> tuple[Path, list[tuple[str, str, bytes]]]:
    """The archive on disk, and its entries as zipfile reads them back (it cuts a name at NUL, for one)."""
    outside = str(root / "outside")
    rows = [(name.replace(OUTSIDE, outside), kind, data) for name, kind, data in raw]
    made = [symlink_entry(name, outside) if kind == "link" else (name, data) for name, kind, data in rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        (root / "upload.zip").write_bytes(zip_with_entries(made))
        with zipfile.ZipFile(root / "upload.zip") as archive:
            names = [info.filename for info in archive.infolist()]
    return root / "upload.zip", [(name, kind, data) for name, (_, kind, data) in zip(names, rows, strict=True)]


def everything_under(folder: Path) -> set[Path]:
    found: set[Path] = set()
    for top, dirs, files in os.walk(folder):
        found |= {Path(top) / name for name in [*dirs, *files]}
    return found


def expected_tree(read_back: list[tuple[str, str, bytes]]) -> dict[PurePosixPath, bytes | None]:
    """What a correct extraction leaves: each file with its bytes, each folder (None)."""
    tree: dict[PurePosixPath, bytes | None] = {}
    for name, _, data in read_back:
        path = PurePosixPath(name)
        for parent in [*path.parents][:-1]:
            tree[parent] = None
        tree[path] = None if name.endswith("/") else data
    tree.pop(PurePosixPath("."), None)  # "./" is the staging folder itself
    return tree


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=entries)
def test_extraction_stays_inside_or_refuses(raw: list[tuple[str, str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        staging, outside = root / "staging", root / "outside"
        staging.mkdir()
        outside.mkdir()
        (outside / "keep").write_bytes(b"keep")
        archive, read_back = build_zip(root, raw)
        try:
            safe_extract(archive, staging)
            refused = None
        except REFUSALS as exc:
            refused = exc
        event(f"refused: {refused.details.get('reason', refused.code)}" if refused else "extracted")

        assert everything_under(root) - everything_under(staging) == {staging, outside, outside / "keep", archive}
        assert (outside / "keep").read_bytes() == b"keep"
        inside = everything_under(staging)
        assert not [path for path in inside if path.is_symlink()]
        assert all(path.resolve().is_relative_to(staging.resolve()) for path in inside)
        if refused is None:
            assert all(kind == "file" for _, kind, _ in read_back), "a symbolic link was accepted"
            tree = {PurePosixPath(path.relative_to(staging)): path.read_bytes() if path.is_file() else None
                    for path in inside}
            assert tree == expected_tree(read_back)


@settings(max_examples=40, deadline=None)
@given(tree=st.dictionaries(st.lists(st.sampled_from(["a", "b", "名前", "x y", "ü.jpg"]), min_size=1, max_size=4)
                            .map("/".join), st.binary(max_size=32), min_size=1, max_size=8)
       .filter(lambda tree: not any(other.startswith(name + "/") for name in tree for other in tree)))
def test_a_plain_tree_is_extracted_as_it_was(tree: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        staging = root / "staging"
        staging.mkdir()
        (root / "upload.zip").write_bytes(zip_with_entries(list(tree.items())))
        safe_extract(root / "upload.zip", staging)
        files = {path.relative_to(staging).as_posix(): path.read_bytes() for path in staging.rglob("*") if path.is_file()}
        assert files == tree
