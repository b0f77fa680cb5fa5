"""Crafted .pt files that run a command when an unsafe loader opens them. The command only ever creates a marker
file in the test's temp dir; tests assert the marker never appears.

(a) "os", "system", "collections", "OrderedDict", POP, POP, STACK_GLOBAL: a scanner that ignores POP sees
    collections.OrderedDict, the unpickler calls os.system (legacy format);
(b) a legacy file whose first pickle is the torch magic number, the second calls os.system;
(c) trick (a) as the data.pkl of a torch zip;
(d) a real checkpoint whose data.pkl runs trick (a) first, drops the result and then builds the checkpoint;
(e) a torch zip whose only global is AutoBackend("<(b) file>"), which loads that second file unchecked;
(f) a real DetectionModel class called with a yaml whose activation Ultralytics eval()s."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from pathlib import Path

_S = pickle


def _text(value: str) -> bytes:
    data = value.encode()
    return _S.SHORT_BINUNICODE + bytes([len(data)]) + data if len(data) < 256 else \
        _S.BINUNICODE + struct.pack("<I", len(data)) + data


def _system_call(command: str) -> bytes:
    """Opcodes that leave os.system(command)'s result on the stack, by trick (a)."""
    return (_text("os") + _text("system") + _text("collections") + _text("OrderedDict") + _S.POP + _S.POP
            + _S.STACK_GLOBAL + _S.MARK + _text(command) + _S.TUPLE + _S.REDUCE)


def touch(marker: Path) -> str:
    return f"touch {marker}"


def pickle_a(marker: Path) -> bytes:
    return _S.PROTO + b"\x04" + _system_call(touch(marker)) + _S.STOP


def legacy_b(marker: Path) -> bytes:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)  # torch's legacy magic number
    return magic + pickle_a(marker)


def _torch_zip(data_pkl: bytes, template: Path | None = None) -> bytes:
    """A torch zip archive with `data_pkl`; other entries (tensors) come from `template` when given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        if template is None:
            archive.writestr("archive/data.pkl", data_pkl)
            archive.writestr("archive/byteorder", "little")
            archive.writestr("archive/version", "3\n")
        else:
            with zipfile.ZipFile(template) as source:
                for info in source.infolist():
                    payload = data_pkl if info.filename.endswith("data.pkl") else source.read(info)
                    archive.writestr(info.filename, payload)
    return out.getvalue()


def zip_c(marker: Path) -> bytes:
    return _torch_zip(pickle_a(marker))


def real_with_prefix_d(marker: Path, real_checkpoint: Path) -> bytes:
    with zipfile.ZipFile(real_checkpoint) as source:
        original = next(source.read(i) for i in source.infolist() if i.filename.endswith("data.pkl"))
    assert original[:1] == _S.PROTO
    evil = original[:2] + _system_call(touch(marker)) + _S.POP + original[2:]
    return _torch_zip(evil, template=real_checkpoint)


def autobackend_e(second_file: Path) -> bytes:
    data = (_S.PROTO + b"\x02" + _S.GLOBAL + b"ultralytics.nn.autobackend\nAutoBackend\n" + _S.MARK
            + _text(str(second_file)) + _S.TUPLE + _S.REDUCE + _S.STOP)
    return _torch_zip(data)


def detection_model_f(marker: Path) -> bytes:
    yaml = {"nc": 1, "activation": f"__import__('os').system('{touch(marker)}')",
            "backbone": [[-1, 1, "Conv", [16, 3, 2]]], "head": [[-1, 1, "Classify", [1]]]}
    data = (_S.PROTO + b"\x02" + _S.EMPTY_DICT + _text("model") + _S.GLOBAL + b"ultralytics.nn.tasks\nDetectionModel\n"
            + _S.MARK + _S.EMPTY_DICT + _S.MARK)
    for key, value in yaml.items():
        data += _text(key) + pickle.dumps(value, protocol=2)[2:-1]
    data += _S.SETITEMS + _S.TUPLE + _S.REDUCE + _S.SETITEM + _S.STOP
    return _torch_zip(data)


def all_payloads(work: Path, real_checkpoint: Path) -> dict[str, tuple[bytes, Path]]:
    """name -> (file bytes, the marker it would create)."""
    markers = {name: work / f"marker-{name}" for name in "abcdef"}
    second = work / "second.pt"
    second.write_bytes(legacy_b(markers["e"]))
    return {
        "a": (pickle_a(markers["a"]), markers["a"]),
        "b": (legacy_b(markers["b"]), markers["b"]),
        "c": (zip_c(markers["c"]), markers["c"]),
        "d": (real_with_prefix_d(markers["d"], real_checkpoint), markers["d"]),
        "e": (autobackend_e(second), markers["e"]),
        "f": (detection_model_f(markers["f"]), markers["f"]),
    }
