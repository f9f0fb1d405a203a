"""status.io scheduled maintenance: find the release's maintenance or schedule it (REST API v2).

Calls used, as the status.io API documents them (headers `x-api-id` and `x-api-key`, JSON):
  GET  {api}/v2/maintenance/list/{statuspage_id}
       -> {"status": {"error": "no", "message": "OK"},
           "result": {"active_maintenances": [...], "upcoming_maintenances": [...], ...}}
  POST {api}/v2/maintenance/schedule  body: statuspage_id, maintenance_name,
       maintenance_details, infrastructure_affected, all_infrastructure_affected ("0"/"1"),
       automation, date_planned_start/end (MM/DD/YYYY), time_planned_start/end (HH:MM),
       maintenance_notify_now/_72_hr/_24_hr/_1_hr ("0"/"1")
       -> {"status": {"error": "no", ...}, "result": "<maintenance id>"}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests


class StatusIOError(RuntimeError):
    """A status.io call that failed; the message never carries the API key."""


@dataclass(frozen=True)
class Maintenance:
    id: str
    name: str
    start: str


@dataclass(frozen=True)
class Window:
    name: str
    details: str
    start: datetime
    end: datetime


class StatusIO:
    def __init__(
        self,
        api_url: str,
        statuspage_id: str,
        api_id: str,
        api_key: str,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.statuspage_id = statuspage_id
        self._headers = {"x-api-id": api_id, "x-api-key": api_key}
        self._session = session or requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._session.request(
                method, f"{self.api_url}{path}", json=body, headers=self._headers, timeout=30
            )
        except requests.RequestException as error:
            raise StatusIOError(f"{method} {path}: {type(error).__name__}") from None
        try:
            data = response.json()
        except ValueError:
            raise StatusIOError(
                f"{method} {path} answered {response.status_code}, not JSON"
            ) from None
        status = data.get("status", {}) if isinstance(data, dict) else {}
        if response.status_code != 200 or status.get("error") != "no":
            raise StatusIOError(
                f"{method} {path} answered {response.status_code}: {status.get('message', data)}"
            )
        return data["result"]

    def maintenances(self) -> list[Maintenance]:
        """Active and upcoming maintenances of the status page."""
        result = self._call("GET", f"/v2/maintenance/list/{self.statuspage_id}")
        found = []
        for key in ("active_maintenances", "upcoming_maintenances"):
            for item in result.get(key, []):
                found.append(
                    Maintenance(
                        str(item["_id"]), item["name"], item.get("datetime_planned_start", "")
                    )
                )
        return found

    def find(self, name: str) -> Maintenance | None:
        return next((m for m in self.maintenances() if m.name == name), None)

    def schedule(self, window: Window, infrastructure: list[str]) -> str:
        body = {
            "statuspage_id": self.statuspage_id,
            "maintenance_name": window.name,
            "maintenance_details": window.details,
            "infrastructure_affected": infrastructure,
            "all_infrastructure_affected": "0" if infrastructure else "1",
            "automation": "0",
            "date_planned_start": window.start.strftime("%m/%d/%Y"),
            "time_planned_start": window.start.strftime("%H:%M"),
            "date_planned_end": window.end.strftime("%m/%d/%Y"),
            "time_planned_end": window.end.strftime("%H:%M"),
            "maintenance_notify_now": "0",
            "maintenance_notify_72_hr": "1",
            "maintenance_notify_24_hr": "1",
            "maintenance_notify_1_hr": "1",
        }
        return str(self._call("POST", "/v2/maintenance/schedule", body))

    def find_or_schedule(self, window: Window, infrastructure: list[str]) -> tuple[str, bool]:
        """(maintenance id, whether it was created now): a second run finds the first one's."""
        existing = self.find(window.name)
        if existing is not None:
            return existing.id, False
        return self.schedule(window, infrastructure), True
