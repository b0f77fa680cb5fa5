"""Recognitions: photos in, detections, counts and a kit verdict out; history and annotated images."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import FileResponse, Response

from api.auth.schemas import Role
from api.core.errors import PayloadTooLarge, ValidationFailed
from api.core.http import API_PREFIX, Id, OnBehalfOf, SnapshotPage
from api.core.responses import errors
from api.core.schemas import MAX_ID
from api.dependencies import CurrentKey, ServicesDep, require_role
from api.recognition.schemas import RecognitionList, RecognitionParams, RecognitionRead

viewer = APIRouter(tags=["recognition"], dependencies=[require_role(Role.viewer)], responses=errors())
operator = APIRouter(tags=["recognition"], dependencies=[require_role(Role.operator)], responses=errors())


def parse_kit(kit: str | None) -> dict[str, int] | None:
    if kit is None or kit == "":
        return None
    try:
        value = json.loads(kit)
    except json.JSONDecodeError:
        raise ValidationFailed.for_field("body.kit", 'must be a JSON object of class name -> count, e.g. {"wrench": 2}') from None
    if (not isinstance(value, dict) or not value
            or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10000
                       for k, v in value.items())):
        raise ValidationFailed.for_field("body.kit", "must be a non-empty JSON object of class name -> count (0..10000)")
    return value


async def recognition_or_404(recognition_id: Id, services: ServicesDep) -> RecognitionRead:
    return await services.recognizer.get(recognition_id)


RecognitionDep = Annotated[RecognitionRead, Depends(recognition_or_404)]


@operator.post("/recognitions", response_model=RecognitionRead, status_code=201, responses={
    **errors(404, 413, 415, 503), 202: {"model": RecognitionRead, "description": "mode=async: queued, not yet run."}})
async def create_recognition(
    key: CurrentKey,
    behalf: OnBehalfOf,
    services: ServicesDep,
    response: Response,
    images: Annotated[list[UploadFile], File(description="1..N JPEG, PNG or WebP photos (repeat the field).")],
    model: Annotated[int, Form(ge=1, le=MAX_ID, description="Model id.")],
    conf: Annotated[float, Form(ge=0, le=1)] = 0.5,
    iou: Annotated[float, Form(ge=0, le=1)] = 0.7,
    classes: Annotated[str | None, Form(description="Comma-separated class names to keep.")] = None,
    expected_count: Annotated[int | None, Form(ge=0, le=100000)] = None,
    kit: Annotated[str | None, Form(description='JSON object class name -> count, e.g. {"wrench": 2}.')] = None,
    kit_id: Annotated[int | None, Form(ge=1, le=MAX_ID, description="A stored kit to check (instead of kit).")] = None,
    runtime: Annotated[Literal["auto", "torch", "onnx"], Form(
        description="auto: ONNX Runtime when the model has an ONNX export, else torch.")] = "auto",
    mode: Annotated[Literal["sync", "async"], Form(description="async: 202 at once, recognized in the background "
                                                   "(up to RECOGNITION_MAX_ASYNC_IMAGES photos).")] = "sync",
) -> RecognitionRead:
    """Recognize objects on the photos and check them against an expected count or a kit."""
    settings = services.settings
    most = settings.recognition_max_async_images if mode == "async" else settings.recognition_max_images
    if len(images) > most:
        raise ValidationFailed.for_field("body.images", f"at most {most} images per {mode} request")
    if mode == "async":
        params = await _params(services, conf, iou, classes, expected_count, kit, kit_id, runtime)
        recognition = await services.recognition_batches.submit(images, model_id=model, params=params, key_id=key.id,
                                                                on_behalf_of=behalf)
        response.status_code = 202
        response.headers["Location"] = f"{API_PREFIX}/recognitions/{recognition.id}"
        return recognition
    limit = settings.recognition_max_image_mb * 1024 * 1024
    uploads = []
    for index, image in enumerate(images):
        data = await image.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"Image {index} is larger than {settings.recognition_max_image_mb} MiB.",
                                  details={"image": index, "max_bytes": limit})
        if not data:
            raise ValidationFailed.for_field("body.images", f"image {index} is empty")
        uploads.append(data)
    params = await _params(services, conf, iou, classes, expected_count, kit, kit_id, runtime)
    return await services.recognizer.recognize(uploads, model_id=model, params=params, key_id=key.id,
                                               on_behalf_of=behalf)


async def _params(services: ServicesDep, conf: float, iou: float, classes: str | None, expected_count: int | None,
                  kit: str | None, kit_id: int | None, runtime: Literal["auto", "torch", "onnx"]) -> RecognitionParams:
    wanted = [name.strip() for name in classes.split(",") if name.strip()] if classes else None
    kit_items = await services.kits.kit_to_check(kit_id=kit_id, kit=parse_kit(kit))
    return RecognitionParams(conf=conf, iou=iou, classes=wanted, expected_count=expected_count, kit=kit_items,
                             kit_id=kit_id, runtime=runtime)


@viewer.get("/recognitions", response_model=RecognitionList)
async def list_recognitions(
    services: ServicesDep, page: SnapshotPage,
    user: Annotated[str | None, Query(max_length=100, description="X-On-Behalf-Of value, e.g. tg:42.")] = None,
    model: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    verdict: Annotated[Literal["complete", "incomplete", "unchecked"] | None, Query()] = None,
    since: Annotated[float | None, Query(ge=0, description="Unix time.")] = None,
    until: Annotated[float | None, Query(ge=0, description="Unix time.")] = None,
    kit_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    sort: Annotated[Literal["-created_at", "created_at", "verdict"], Query(description="verdict: then newest.")] = (
        "-created_at"),
) -> RecognitionList:
    """Stored recognitions, newest first (or `sort`), filtered by user, model, kit, verdict and date."""
    items, total = await services.recognizer.list(on_behalf_of=user, model_id=model, verdict=verdict, since=since,
                                                  until=until, limit=page.limit, offset=page.offset, as_of=page.as_of,
                                                  kit_id=kit_id, sort=sort)
    return RecognitionList(items=items, total=total)


@viewer.get("/recognitions/{recognition_id}", response_model=RecognitionRead, responses=errors(404))
async def get_recognition(recognition: RecognitionDep) -> RecognitionRead:
    """One recognition with its per-image results."""
    return recognition


@viewer.get("/recognitions/{recognition_id}/images/{n}", response_class=FileResponse, responses={
    **errors(404), 200: {"content": {"image/jpeg": {}}, "description": "Annotated JPEG (or the original)."}})
async def get_recognition_image(
    recognition: RecognitionDep, services: ServicesDep, n: Annotated[int, Path(ge=0, le=100000)],
    original: Annotated[bool, Query(description="The photo as uploaded.")] = False,
) -> FileResponse:
    """Image n with boxes, names and confidences drawn (or the uploaded original)."""
    path = await services.recognizer.image_file(recognition, n, original=original)
    media = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[path.suffix.lstrip(".")]
    return FileResponse(path, media_type=media)


@viewer.get("/recognitions/{recognition_id}/images/{n}/explain", response_class=FileResponse, responses={
    **errors(404, 409), 200: {"content": {"image/jpeg": {}}, "description": "EigenCAM heatmap over the photo."}})
async def explain_recognition_image(
    recognition: RecognitionDep, services: ServicesDep, n: Annotated[int, Path(ge=0, le=100000)],
    detection: Annotated[int | None, Query(ge=0, le=100000, description="Focus on detection k of the image.")] = None,
) -> FileResponse:
    """A heatmap of the regions that drove the model on image n (EigenCAM), or inside one detection's box."""
    path = await services.recognizer.explanations.file(recognition, n, detection=detection)
    return FileResponse(path, media_type="image/jpeg")


@operator.delete("/recognitions/{recognition_id}", status_code=204, responses=errors(404))
async def delete_recognition(recognition: RecognitionDep, key: CurrentKey, services: ServicesDep) -> Response:
    """Delete a recognition and its images (operators: only their own)."""
    await services.recognizer.delete(recognition, key=key)
    return Response(status_code=204)


router = APIRouter()
router.include_router(viewer)
router.include_router(operator)
