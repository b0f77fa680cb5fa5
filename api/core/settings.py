"""Server settings: defaults < .env < environment < run_api.py flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
MIN_KEY_LENGTH = 24  # keys are secrets; their first 8 characters are shown as a prefix


class Settings(BaseSettings):
    """Everything the server can be told; each field is also an env var of the same name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0 = pick a free one).")
    data_dir: Path = Field(Path("data"), description="Directory for the SQLite file, datasets, runs, models.")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated admin API keys. None: the first start creates one."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated addresses of reverse proxies whose X-Forwarded-For is "
        "believed. None: the header is ignored and the peer address is the client.")
    max_connections: int = Field(500, ge=1, description="Connections served at once; more get 503 at once.")
    max_concurrent_sessions: int = Field(1, ge=1, le=64, description="Training sessions running at once.")
    log_level: LogLevel = Field("info", description="Log level of the server.")
    executor: Literal["local", "ray"] = Field(
        "local", description="Where training runs: local (child processes on this machine) or ray (a Ray cluster at "
        "RAY_ADDRESS; pip install -r requirements-ray.txt).")
    ray_address: str = Field("", description="The Ray cluster to run on (host:port of its head, or ray://...).")
    ray_cpus_per_run: float = Field(1.0, gt=0, le=1024, description="CPUs a training run asks the cluster for.")
    ray_node_cache: str = Field("~/.cache/training-server", description="Folder on each cluster node where datasets "
                                "are cached by content hash and runs work.")
    public_url: str = Field("", description="The URL cluster workers reach this server at. Default: "
                            "http://HOST:PORT (set it when HOST is 0.0.0.0 or behind a proxy).")
    external_session_timeout_h: float = Field(
        24.0, gt=0, description="An external session that reports nothing this long is marked failed.")

    auto_resume: bool = Field(True, description="Queue sessions interrupted by a server crash again.")
    system_sample_interval_s: float = Field(2.0, gt=0, description="Seconds between CPU/RAM/GPU samples.")
    system_retention_minutes: int = Field(24 * 60, ge=1, description="How long system samples are kept.")
    auth_max_failures: int = Field(10, ge=1, description="Failed auth attempts per client before lockout.")
    auth_failure_window_s: float = Field(60.0, gt=0, description="Window in which failures are counted.")
    auth_lockout_s: float = Field(300.0, gt=0, description="How long a locked-out client gets 429.")
    max_upload_mb: int = Field(500, ge=1, description="Largest accepted request body in MiB.")
    max_json_kb: int = Field(1024, ge=1, description="Largest JSON (non-upload) request body in KiB.")
    body_idle_timeout_s: float = Field(30.0, gt=0, description="A request body that stops arriving this long: 408.")
    max_batch_megapixels: float = Field(
        128, gt=0, description="batch x imgsz^2 a training run may ask for, in megapixels (422 above it).")
    training_memory_mb: int = Field(
        0, ge=0, description="Memory a CPU training run may allocate beyond torch itself; over it the run fails "
        "with that reason, the server lives on. 0: three quarters of the RAM.")
    max_queued_per_key: int = Field(
        100, ge=1, description="Queued sessions (training and evaluation) one key may have waiting; 429 above it.")
    audit_retention_days: float = Field(
        365, ge=0, description="Days audit log rows are kept; 0 keeps them forever.")
    stop_grace_s: float = Field(20.0, gt=0, description="Seconds a stopping run may take before it is killed.")
    training_nice: int = Field(10, ge=0, le=19, description="CPU niceness of training processes (0 = as the server).")
    recognition_max_images: int = Field(32, ge=1, le=1000, description="Images per recognition request.")
    # At most 1000: the multipart parser refuses more files in one request.
    recognition_max_async_images: int = Field(
        500, ge=1, le=1000, description="Images per async recognition batch (mode=async), recognized in the background.")
    recognition_async_queue: int = Field(
        4, ge=1, le=1000, description="Async recognition batches that may wait for their turn; more get 503 busy.")
    recognition_max_image_mb: int = Field(20, ge=1, description="Largest image in a recognition request, MiB.")
    recognition_cache_size: int = Field(4, ge=1, le=64, description="Models kept loaded for recognition.")
    recognition_threads: int = Field(0, ge=0, le=256, description="CPU threads for inference (0 = all cores).")
    recognition_image_retention_days: float = Field(
        30, ge=0, description="Days the photos of a recognition are kept (its results stay); 0 keeps them forever.")
    stream_hang_timeout_s: float = Field(
        30.0, gt=0, description="A stream worker that sends no heartbeat (one a second) this long is killed and restarted.")
    model_load_timeout_s: float = Field(
        120.0, gt=0, description="Loading an uploaded or trained checkpoint (in a throwaway process) may take this long.")
    model_load_memory_mb: int = Field(
        2048, ge=256, description="Memory a checkpoint load may allocate (beyond torch's own) before it is refused.")
    shapes_train_images: int = Field(160, ge=4, description="Size of the built-in shapes dataset (train split).")

    @field_validator("api_keys", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _long_keys(cls, value: list[str]) -> list[str]:
        short = [key[:4] + "..." for key in value if len(key) < MIN_KEY_LENGTH]
        if short:
            raise ValueError(f"API keys need at least {MIN_KEY_LENGTH} characters ({', '.join(short)} are shorter)")
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Once, here: training children work in their run dir, so a relative path would point elsewhere there.
        return value.expanduser().resolve()

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "server.db"

    @property
    def max_json_bytes(self) -> int:
        return self.max_json_kb * 1024

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024
