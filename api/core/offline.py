"""Environment that keeps Ultralytics from reaching the network; must be applied before importing it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def offline_environment(config_dir: Path) -> dict[str, str]:
    return {
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "false",
        "YOLO_VERBOSE": "true",
        "YOLO_CONFIG_DIR": str(config_dir),
        "MPLCONFIGDIR": str(config_dir / "matplotlib"),
        "MPLBACKEND": "Agg",
    }


def prepare_config_dir(config_dir: Path) -> None:
    """Fonts Ultralytics would download: copies of matplotlib's DejaVuSans under the names it asks for."""
    target = config_dir / "Ultralytics"
    target.mkdir(parents=True, exist_ok=True)
    (config_dir / "matplotlib").mkdir(parents=True, exist_ok=True)
    missing = [name for name in FONT_NAMES if not (target / name).exists()]
    if not missing:
        return
    import matplotlib

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in missing:
        shutil.copyfile(source, target / name)


def apply_offline_environment(config_dir: Path) -> None:
    prepare_config_dir(config_dir)
    os.environ.update(offline_environment(config_dir))
