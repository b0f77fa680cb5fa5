"""Validation of a model on a dataset split, inside a training child process (kind 'evaluate')."""

from __future__ import annotations

from typing import Any

from api.training.child.contract import Evaluated, RunSpec


def _floats(values: dict[str, Any]) -> dict[str, float]:
    return {str(k): round(float(v), 6) for k, v in values.items()}


def evaluate(spec: RunSpec) -> Evaluated:
    """Ultralytics' own model.val() with the given settings; overall and per-class numbers."""
    from ultralytics import YOLO

    model = YOLO(spec.model, task=spec.task)
    args = {"data": spec.data, "split": spec.split, "imgsz": spec.imgsz, "batch": spec.batch,
            "device": spec.device, "plots": False, "project": spec.run_dir, "name": "val", "exist_ok": True}
    if spec.task == "detect":
        args.update(conf=spec.conf, iou=spec.iou)
    results = model.val(**args)
    names = model.names
    if spec.task == "classify":
        metrics = {"top1": float(results.top1), "top5": float(results.top5)}
        return Evaluated(metrics=_floats(metrics), per_class={})
    box = results.box
    metrics = {"precision": box.mp, "recall": box.mr, "mAP50": box.map50, "mAP50-95": box.map}
    per_class = {}
    for position, class_index in enumerate(results.ap_class_index):
        p, r, ap50, ap = box.class_result(position)
        per_class[names[int(class_index)]] = _floats({"precision": p, "recall": r, "mAP50": ap50, "mAP50-95": ap})
    return Evaluated(metrics=_floats(metrics), per_class=per_class)
