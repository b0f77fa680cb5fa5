"""Loading an untrusted .pt without running any of it.

A pickle can call whatever its GLOBAL opcodes name. So: only the torch zip format is accepted (the legacy format
is refused), with one `data.pkl` that ends exactly at its first STOP; then `torch.load(weights_only=True)`, whose
unpickler refuses every global that is not on its allow-list. Our allow-list never hands it a real class: every
name an Ultralytics checkpoint holds (its torch/Ultralytics modules, torchvision transforms, namespaces, paths) is
mapped to an inert *shim* that only records the state it is given. Constructors with attacker arguments, such as
`DetectionModel(cfg=...)` or `AutoBackend(path)`, therefore never run; what comes back is a tree of plain data and
tensors, from which inspection.py rebuilds a real model through trusted code.

Only torch's own tensor rebuild helpers and numpy's scalar/dtype constructors stay real (pure data). The static
checks before the load are a fast, friendly 422; the unpickler is what enforces."""

from __future__ import annotations

import functools
import importlib
import inspect
import pickletools
import pkgutil
import zipfile
from pathlib import Path
from typing import Any

from api.core.errors import ValidationFailed

MAX_PICKLE_BYTES = 8 * 1024 * 1024  # real checkpoints: well under 1 MB (tensors live in their own entries)
_MODULE_PACKAGES = ("torch.nn.modules", "ultralytics.nn.modules")
_EXTRA_CLASSES = (
    "ultralytics.nn.tasks.DetectionModel", "ultralytics.nn.tasks.ClassificationModel",
    "ultralytics.nn.tasks.YOLOv10DetectionModel", "ultralytics.utils.IterableSimpleNamespace",
    "ultralytics.yolo.utils.IterableSimpleNamespace", "types.SimpleNamespace", "argparse.Namespace",
    "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib._local.PosixPath", "pathlib._local.WindowsPath",
    "torchvision.transforms.transforms.Compose", "torchvision.transforms.transforms.Resize",
    "torchvision.transforms.transforms.CenterCrop", "torchvision.transforms.transforms.ToTensor",
    "torchvision.transforms.transforms.Normalize", "torchvision.transforms.functional.InterpolationMode",
    "ultralytics.nn.modules.block.Silence",
)


def refused(reason: str) -> ValidationFailed:
    return ValidationFailed(f"Not a usable Ultralytics model: {reason}.", code="invalid_model",
                            details={"reason": reason})


class Shim:
    """An allow-listed class as the unpickler sees it: records constructor arguments and state, runs nothing."""

    qualified_name = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__["_shim_args"] = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_shim_state"] = state

    @property
    def class_name(self) -> str:
        return self.qualified_name.rpartition(".")[2]


def _shim_getattr(obj: Any, name: str) -> tuple[str, str]:
    """Some checkpoints pickle `getattr(Detect, "forward")`: recorded as a pair, never looked up."""
    return ("getattr", str(name))


def _module_class_names() -> set[str]:
    """Every nn.Module class the installed torch and Ultralytics define in their module packages."""
    import torch

    names: set[str] = set()
    for package_name in _MODULE_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__, f"{package_name}."):
            try:
                module = importlib.import_module(info.name)
            except Exception:  # an optional extra that does not import here: nothing of it can be in a checkpoint
                continue
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, torch.nn.Module) and obj.__module__ == info.name:
                    names.add(f"{obj.__module__}.{obj.__qualname__}")
    return names


@functools.cache
def allowed_globals() -> dict[str, Any]:
    """Name in the pickle -> what the unpickler gets: a shim class, or one of the few real data constructors."""
    import numpy as np

    shims: dict[str, Any] = {
        name: type(name.rpartition(".")[2], (Shim,), {"qualified_name": name})
        for name in sorted(_module_class_names() | set(_EXTRA_CLASSES))
    }
    scalar = np.float64(0).__reduce__()[0]
    real: dict[str, Any] = {
        "numpy.core.multiarray.scalar": scalar, "numpy._core.multiarray.scalar": scalar, "numpy.dtype": np.dtype,
        "builtins.getattr": _shim_getattr,
    }
    return {**shims, **real}


def check_structure(path: Path) -> None:
    """The static part: torch zip format, one data.pkl, nothing after its first STOP, only allow-listed globals."""
    if not zipfile.is_zipfile(path):
        raise refused("only the torch zip format is accepted (legacy pickle files are refused)")
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [info for info in archive.infolist() if info.filename.endswith("data.pkl")]
            if len(pickles) != 1:
                raise refused("a checkpoint holds exactly one data.pkl")
            if pickles[0].file_size > MAX_PICKLE_BYTES:
                raise refused(f"its pickle is over {MAX_PICKLE_BYTES // 2**20} MB")
            data = archive.read(pickles[0])
    except (zipfile.BadZipFile, OSError, EOFError):
        raise refused("the archive is damaged") from None
    _check_pickle(data)
    import torch

    try:
        named = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception:  # its parser knows the opcodes torch.save writes, nothing more
        raise refused("its pickle uses opcodes torch.save never writes") from None
    unknown = sorted(set(named) - set(allowed_globals()))
    if unknown:
        raise refused(f"it refers to {', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''}, "
                      "which a model checkpoint does not need")


def _check_pickle(data: bytes) -> None:
    end = None
    try:
        for opcode, _arg, position in pickletools.genops(data):
            if opcode.name == "STOP":
                end = position + 1
                break
    except Exception:  # pickletools raises ValueError and friends on garbage
        raise refused("its pickle is malformed") from None
    if end is None:
        raise refused("its pickle has no end")
    if end != len(data):
        raise refused("bytes follow the end of its pickle")


def load_untrusted(path: Path) -> Any:
    """Static checks, then the restricted unpickler with the shim allow-list. Never runs code from the file."""
    import torch

    check_structure(path)
    entries = [(obj, name) for name, obj in allowed_globals().items()]
    try:
        with torch.serialization.safe_globals(entries):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=False)
    except Exception as exc:
        raise refused(f"it cannot be loaded safely ({type(exc).__name__})") from None
