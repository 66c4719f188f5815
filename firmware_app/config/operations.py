"""Config sections for running the appliance in the field: updates, the status socket, metrics."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from .strict import Strict


class UpdateSection(Strict):
    packages_dir: Path | None = Field(
        default=None, description="kept packages (current, previous, ...) and the last update's result; "
                                  "unset: <device.data_dir>/packages")
    health_window_s: float = Field(default=180.0, gt=0, le=3600,
                                   description="a new release must be healthy within this time, or it is rolled back")
    stable_s: float = Field(default=30.0, ge=0, le=1800,
                            description="... and stay healthy (READY, running, no restart) this long within the window")
    poll_s: float = Field(default=2.0, gt=0, le=60, description="how often health is read during the window")
    keep_packages: int = Field(default=3, ge=2, le=20,
                               description="packages kept (never fewer than current + previous)")
    unit: str = Field(default="gate-app.service", pattern=r"^[A-Za-z0-9@._-]{1,64}\.service$",
                      description="the unit restarted and watched")
    download_max_mb: int = Field(default=512, ge=1, le=2048,
                                 description="largest package the BMIS update command may download")

    @model_validator(mode="after")
    def _stable_fits_the_window(self) -> UpdateSection:
        if self.stable_s >= self.health_window_s:
            raise ValueError("stable_s must be shorter than health_window_s")
        return self


class StatusSection(Strict):
    socket: Path | None = Field(default=None, description="gatectl status's Unix socket (0660); unset: "
                                                          "<device.data_dir>/status.sock")
    group: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_-]{0,31}$",
                              description="group that may query it; unset: gate-app's own group")


class MetricsSection(Strict):
    textfile: Path | None = Field(default=None, description="Prometheus textfile (node_exporter's textfile "
                                                            "collector), written atomically; unset: none")
    interval_s: float = Field(default=15.0, ge=1, le=3600, description="how often the textfile is rewritten")
