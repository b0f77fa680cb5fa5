"""EigenCAM, the pure part of explanations: the feature maps a model's final head receives (a forward pre-hook),
their first principal component as a heatmap (no gradients, no labels), and that heatmap blended over the photo."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from api.registry.datasets.samples import PALETTE, legible_font

PAD_GREY = 114  # what Ultralytics letterboxes with
ALPHA = 0.5  # the heatmap's share of an overlay pixel
DIM = 0.35  # what is left of the photo outside a focused box


def normalise(values: np.ndarray) -> np.ndarray:
    """0..1 by the maximum (values are >= 0); all zeros stay zeros."""
    peak = float(values.max()) if values.size else 0.0
    return (values / peak).astype(np.float32) if peak > 0 else np.zeros_like(values, dtype=np.float32)


def eigen_cam(activation: np.ndarray) -> np.ndarray:
    """(C, H, W) activations -> (H, W) in 0..1: each position projected on the first principal component of the
    positions' channel vectors, ReLU'd."""
    channels = activation.shape[0]
    positions = activation.reshape(channels, -1).T.astype(np.float64)  # (H*W, C)
    centred = positions - positions.mean(axis=0)
    if not np.any(centred):
        return np.zeros(activation.shape[1:], dtype=np.float32)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projection = centred @ vt[0]
    # A singular vector's sign is arbitrary: orient it so that positions with stronger activations score higher.
    strength = np.linalg.norm(positions, axis=1)
    if projection @ (strength - strength.mean()) < 0:
        projection = -projection
    return normalise(np.maximum(projection, 0).reshape(activation.shape[1:]))


def model_input(image: Image.Image, side: int, stride: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo as the model sees it: long side `side`, padded right and bottom to a multiple of `stride`, as a
    (1, 3, H, W) float array in 0..1; and the size (w, h) of the photo inside it."""
    ratio = side / max(image.size)
    width, height = max(1, round(image.width * ratio)), max(1, round(image.height * ratio))
    canvas = Image.new("RGB", (math.ceil(width / stride) * stride, math.ceil(height / stride) * stride),
                       (PAD_GREY,) * 3)
    canvas.paste(image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
    batch = np.asarray(canvas, dtype=np.float32).transpose(2, 0, 1)[None] / 255.0
    return np.ascontiguousarray(batch), (width, height)


def torch_network(loaded: Any) -> Any | None:
    """The torch module of an Ultralytics model whose last layer is its head, or None (an exported runtime)."""
    import torch

    network = getattr(loaded, "model", None)
    layers = getattr(network, "model", None)
    return network if isinstance(network, torch.nn.Module) and isinstance(layers, torch.nn.Sequential) else None


def head_inputs(network: Any, batch: np.ndarray) -> list[np.ndarray]:
    """The (C, H, W) feature maps the final head (Detect: the neck's outputs per stride; Classify: the last
    backbone layer) receives for a one-image batch, caught by a forward pre-hook that is removed afterwards."""
    import torch

    captured: list[np.ndarray] = []

    def grab(_module: Any, args: tuple[Any, ...]) -> None:
        inputs = args[0]
        for tensor in inputs if isinstance(inputs, (list, tuple)) else [inputs]:
            if isinstance(tensor, torch.Tensor) and tensor.ndim == 4:  # Detect replaces list items: copy now
                captured.append(tensor[0].detach().float().cpu().numpy())

    parameter = next(network.parameters())
    if network.training:
        network.eval()
    handle = network.model[-1].register_forward_pre_hook(grab)
    try:
        with torch.inference_mode():
            network(torch.from_numpy(batch).to(parameter.device, parameter.dtype))
    finally:
        handle.remove()
    return captured


def combine(cams: Sequence[np.ndarray], content: tuple[int, int], padded: tuple[int, int],
            size: tuple[int, int]) -> np.ndarray:
    """The mean of the heatmaps, each cut to the photo's part of the input and resized to `size` (w, h); 0..1."""
    total = np.zeros((size[1], size[0]), dtype=np.float32)
    for cam in cams:
        rows, columns = cam.shape
        box = (0.0, 0.0, columns * content[0] / padded[0], rows * content[1] / padded[1])
        resized = Image.fromarray(cam.astype(np.float32)).resize(size, Image.Resampling.BILINEAR, box=box)
        total += np.asarray(resized, dtype=np.float32)
    return normalise(total)


def heatmap(network: Any, image: Image.Image, side: int, stride: int = 32) -> np.ndarray:
    """EigenCAM of `image` through `network`, over the head's every input map, at the image's size (blocking)."""
    batch, content = model_input(image, side, stride)
    maps = head_inputs(network, batch)
    return combine([eigen_cam(activation) for activation in maps], content, (batch.shape[3], batch.shape[2]),
                   image.size)


def _colour_table(name: str = "jet") -> np.ndarray:
    import matplotlib

    return (matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.float32)


def box_mask(shape: tuple[int, int], box: Sequence[float]) -> np.ndarray:
    """(H, W) booleans: True inside box (x0, y0, x1, y1 in pixels)."""
    height, width = shape
    x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x1, y1 = min(width, math.ceil(box[2])), min(height, math.ceil(box[3]))
    mask = np.zeros(shape, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def overlay(image: Image.Image, cam: np.ndarray, detections: Sequence[dict[str, Any]],
            focus: int | None = None) -> bytes:
    """JPEG of the heatmap blended over the photo; with `focus`, only that detection's heatmap (renormalised inside
    its box) over a dimmed photo, with its box and label drawn."""
    photo = np.asarray(image.convert("RGB"), dtype=np.float32)
    mask = box_mask(cam.shape, detections[focus]["box"]) if focus is not None else None
    if mask is not None:
        cam = normalise(np.where(mask, cam, 0))
    heat = _colour_table()[np.clip(cam * 255, 0, 255).astype(np.uint8)]
    blended = (1 - ALPHA) * photo + ALPHA * heat
    if mask is not None:
        blended = np.where(mask[..., None], blended, photo * DIM)
    canvas = Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))
    if focus is not None:
        _draw_box(canvas, detections[focus])
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def _draw_box(canvas: Image.Image, detection: dict[str, Any]) -> None:
    draw = ImageDraw.Draw(canvas)
    width = max(2, max(canvas.size) // 250)
    colour = PALETTE[detection["class_id"] % len(PALETTE)]
    font = legible_font(max(14, max(canvas.size) // 40))
    x0, y0 = detection["box"][:2]
    draw.rectangle(tuple(detection["box"]), outline=colour, width=width)
    draw.text((x0 + width, max(0, y0 - font.size - width * 2)), f"{detection['name']} {detection['confidence']:.2f}",
              fill=colour, font=font, stroke_width=max(1, width // 2), stroke_fill=(0, 0, 0))


def in_image_pixels(detections: Sequence[dict[str, Any]], scale: tuple[float, float]) -> list[dict[str, Any]]:
    """Detections with boxes moved from the photo's pixels to those of its decoded (maybe reduced) image."""
    sx, sy = scale
    return [{**d, "box": [d["box"][0] / sx, d["box"][1] / sy, d["box"][2] / sx, d["box"][3] / sy]}
            for d in detections]
