"""Every checkpoint the registry keeps goes through here: uploads, trained results and, at start-up, rows that
were registered before this check existed. Loading happens in a throwaway child (timeout, memory cap)."""

from __future__ import annotations

from pathlib import Path

from api.core.isolated import Limits, run_isolated
from api.core.pools import Pool
from api.registry.models.inspection import CheckpointInfo, normalise
from api.registry.models.safe_load import load_untrusted

WARM_IMPORTS = ("torch", "ultralytics.nn.tasks", "numpy")


def validate_file(source: str, target: str, config_dir: str) -> dict[str, object]:
    """In the child: load `source` inertly, write its normalised copy to `target`; returns what it is."""
    from api.core.offline import apply_offline_environment

    apply_offline_environment(Path(config_dir))
    return normalise(load_untrusted(Path(source)), Path(target)).to_dict()


async def validate_in_child(source: Path, target: Path, *, config_dir: Path, limits: Limits,
                            waiter: Pool | None = None) -> CheckpointInfo:
    """The normalised copy lands at `target`; a refused file raises ValidationFailed (422) and writes nothing."""
    try:
        info = await run_isolated(validate_file, str(source), str(target), str(config_dir), limits=limits,
                                  warm_imports=WARM_IMPORTS, waiter=waiter)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return CheckpointInfo(**info)
