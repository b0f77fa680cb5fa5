"""EigenCAM's pure parts: a known rank-1 map is recovered whatever the sign of its channel weights, the head's
inputs are caught by a hook that leaves nothing behind, and the heatmap is placed and blended where it belongs."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from api.recognition import explain


def blob(height: int = 12, width: int = 16) -> np.ndarray:
    spatial = np.zeros((height, width))
    spatial[3:7, 9:14] = 1.0
    return spatial


def test_eigen_cam_recovers_a_rank_one_map_whatever_the_sign_of_its_channels() -> None:
    spatial = blob()
    weights = np.random.default_rng(0).normal(size=8)
    for sign in (1, -1):
        activation = sign * weights[:, None, None] * spatial[None]  # (C, H, W) = u ⊗ m
        cam = explain.eigen_cam(activation)
        assert cam.shape == spatial.shape and cam.dtype == np.float32
        np.testing.assert_allclose(cam, spatial, atol=1e-6)


def test_eigen_cam_finds_the_dominant_component_under_noise() -> None:
    rng = np.random.default_rng(1)
    spatial = blob() * rng.uniform(0.5, 1.0, size=blob().shape)
    activation = rng.normal(size=16)[:, None, None] * spatial[None] * 5 + rng.normal(scale=0.2, size=(16, 12, 16))
    cam = explain.eigen_cam(activation)
    assert spatial[np.unravel_index(np.argmax(cam), cam.shape)] > 0
    assert cam[spatial > 0].mean() > 5 * cam[spatial == 0].mean()
    assert 0 <= cam.min() and cam.max() == 1


def test_eigen_cam_of_a_flat_map_is_zero() -> None:
    assert not explain.eigen_cam(np.ones((4, 5, 6))).any()


class Head(torch.nn.Module):
    def forward(self, maps: list[torch.Tensor]) -> torch.Tensor:
        for i in range(len(maps)):
            maps[i] = maps[i] * 0  # like Detect: replaces the list's items
        return maps[0].sum() + maps[1].sum()


class TinyNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), Head())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.model[0](x)
        return self.model[1]([features, torch.nn.functional.avg_pool2d(features, 2)])


def test_head_inputs_are_caught_before_the_head_runs_and_the_hook_goes() -> None:
    torch.manual_seed(0)
    net = TinyNet()
    batch = np.random.default_rng(2).uniform(size=(1, 3, 32, 64)).astype(np.float32)
    maps = explain.head_inputs(net, batch)
    assert [m.shape for m in maps] == [(4, 32, 64), (4, 16, 32)]
    with torch.no_grad():
        np.testing.assert_allclose(maps[0], net.model[0](torch.from_numpy(batch))[0].numpy(), atol=1e-5)
    assert not net.model[-1]._forward_pre_hooks
    assert explain.torch_network(type("Loaded", (), {"model": net})()) is net
    assert explain.torch_network(type("Onnx", (), {"model": "model.onnx"})()) is None


def test_model_input_keeps_the_aspect_and_pads_to_the_stride() -> None:
    batch, content = explain.model_input(Image.new("RGB", (100, 40), (255, 0, 0)), side=64, stride=32)
    assert batch.shape == (1, 3, 32, 64) and content == (64, 26)
    assert batch[0, 0, :26].min() == 1.0 and np.allclose(batch[0, :, 26:], 114 / 255)


def test_combine_maps_only_the_photo_part_of_the_input_onto_the_photo() -> None:
    cam = np.zeros((2, 4), dtype=np.float32)  # input 128x64 of which the photo is the left 64x64
    cam[:, :2] = 1.0
    cam[:, 3] = 5.0  # padding only: must not show (it would be the maximum)
    combined = explain.combine([cam], content=(64, 64), padded=(128, 64), size=(32, 32))
    assert combined.shape == (32, 32)
    assert np.allclose(combined[:, :23], 1.0) and 0.5 <= combined[:, -1].min() < 1  # the edge blends into column 2


def test_overlay_focused_on_a_box_dims_the_rest() -> None:
    image = Image.new("RGB", (80, 60), (200, 200, 200))
    cam = np.zeros((60, 80), dtype=np.float32)
    cam[20:40, 20:40] = 1.0
    detections = [{"class_id": 0, "name": "square", "confidence": 0.9, "box": [10, 10, 50, 50]}]
    whole = np.asarray(Image.open(io.BytesIO(explain.overlay(image, cam, detections))), dtype=float)
    focused = np.asarray(Image.open(io.BytesIO(explain.overlay(image, cam, detections, focus=0))), dtype=float)
    assert whole.shape == focused.shape == (60, 80, 3)
    assert abs(focused[55:, 60:].mean() - 200 * explain.DIM) < 4  # outside the box: the photo, dimmed
    assert abs(focused[25:35, 25:35] - whole[25:35, 25:35]).mean() < 4  # inside: the same heat
    assert abs(whole[55:, 60:].mean() - 200 * explain.DIM) > 30


def test_boxes_move_to_the_decoded_image_pixels() -> None:
    moved = explain.in_image_pixels([{"box": [80, 40, 160, 120], "name": "x"}], (8.0, 4.0))
    assert moved == [{"box": [10.0, 10.0, 20.0, 30.0], "name": "x"}]
