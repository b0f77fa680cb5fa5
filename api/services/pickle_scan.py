"""Static check of a .pt (torch zip or legacy pickle) before anything unpickles it.

A pickle can call any importable callable. Only globals on an allow-list pass: the tensor rebuild
helpers, storage and dtype names, and *classes* that are torch.nn / Ultralytics modules. A function
such as torch.hub.load or ultralytics.nn.tasks.torch_safe_load is refused even though its module is
trusted.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pickletools
import zipfile
from pathlib import Path

from api.errors import ValidationFailed

SAFE_GLOBALS = frozenset({
    "collections.OrderedDict", "builtins.set", "__builtin__.set", "builtins.frozenset", "builtins.slice",
    "torch.Size", "torch.device", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
    "torch.storage.UntypedStorage", "torch.serialization._get_layout", "torch.strided",
    *(f"torch.{kind}Storage" for kind in ("Float", "Half", "BFloat16", "Double", "Long", "Int", "Short", "Char",
                                          "Byte", "Bool")),
    *(f"torch.{dtype}" for dtype in ("float32", "float16", "bfloat16", "float64", "int64", "int32", "int16",
                                     "int8", "uint8", "bool")),
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
    "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "_codecs.encode",
    "argparse.Namespace", "types.SimpleNamespace", "ultralytics.utils.IterableSimpleNamespace",
    "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.Path", "datetime.datetime",
})
SAFE_CLASS_PREFIXES = ("torch.nn.modules.", "ultralytics.nn.")
_STRING_OPS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
                         "BINSTRING", "STRING"})
MAX_PICKLE_BYTES = 256 * 1024 * 1024


def _refused(reason: str, **details: object) -> ValidationFailed:
    return ValidationFailed(f"The model file was refused: {reason}.", code="unsafe_model",
                            details={"reason": reason, **details})


def _is_module_class(name: str) -> bool:
    module_name, _, attribute = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError):
        return False
    import torch

    return inspect.isclass(obj) and issubclass(obj, torch.nn.Module)


def is_allowed(name: str) -> bool:
    return name in SAFE_GLOBALS or (name.startswith(SAFE_CLASS_PREFIXES) and _is_module_class(name))


def pickle_globals(data: bytes) -> set[str]:
    """Every global a pickle references; STACK_GLOBAL arguments are followed through the memo."""
    found: set[str] = set()
    stack_strings: list[str | None] = []
    memo: dict[int, str | None] = {}
    try:
        for opcode, arg, _pos in pickletools.genops(io.BytesIO(data)):
            name = opcode.name
            if name in _STRING_OPS:
                stack_strings.append(arg if isinstance(arg, str) else None)
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[int(arg)] = stack_strings[-1] if stack_strings else None
            elif name == "MEMOIZE":
                memo[len(memo)] = stack_strings[-1] if stack_strings else None
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                stack_strings.append(memo.get(int(arg)))
            elif name == "GLOBAL":
                found.add(str(arg).replace(" ", "."))
            elif name == "STACK_GLOBAL":
                if len(stack_strings) < 2 or stack_strings[-2] is None or stack_strings[-1] is None:
                    raise _refused("a global whose name cannot be read statically")
                found.add(f"{stack_strings[-2]}.{stack_strings[-1]}")
            elif name in ("INST", "OBJ"):
                found.add(str(arg).replace(" ", ".") if arg else "<dynamic class>")
    except ValidationFailed:
        raise
    except Exception as exc:
        raise _refused(f"not a valid pickle ({type(exc).__name__})") from None
    return found


def _pickles_in(path: Path) -> list[tuple[str, bytes]]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename.endswith(".pkl")]
            if not members:
                raise _refused("a zip without a pickle: not a torch checkpoint")
            if any(i.file_size > MAX_PICKLE_BYTES for i in members):
                raise _refused("pickle too large")
            return [(i.filename, archive.read(i)) for i in members]
    data = path.read_bytes()
    if not data.startswith(b"\x80"):
        raise _refused("not a torch checkpoint (neither a torch zip nor a pickle)")
    return [(path.name, data)]


def scan_checkpoint(path: Path) -> set[str]:
    """The globals the file uses; raises ValidationFailed (422) if any is off the allow-list."""
    everything: set[str] = set()
    for member, data in _pickles_in(path):
        names = pickle_globals(data)
        bad = sorted(name for name in names if not is_allowed(name))
        if bad:
            raise _refused("it references code outside the allow-list", member=member, globals=bad[:20])
        everything |= names
    return everything
