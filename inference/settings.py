"""Configuration for the inference service, read from INFERENCE_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class InferenceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INFERENCE_", extra="ignore")

    # Used by `python -m inference`; under `uvicorn inference.app:app` the CLI flags win.
    HOST: str = "127.0.0.1"
    PORT: int = 8002
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
