"""A local status.io API (v2) with the two maintenance calls the suite uses.

It checks requests as the status.io API documents them: `x-api-id` and `x-api-key` headers,
`GET /v2/maintenance/list/{statuspage_id}`, and `POST /v2/maintenance/schedule` with a JSON body
whose dates are MM/DD/YYYY, times HH:MM, and flags the strings "0" or "1". A bad request is
answered the way status.io answers, `{"status": {"error": "yes", "message": ...}}`, and kept in
`problems` for the test to read.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from rehearsal.http_fake import FakeServer, Reply

_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
_TIME = re.compile(r"^\d{2}:\d{2}$")
_FLAGS = (
    "all_infrastructure_affected",
    "automation",
    "maintenance_notify_now",
    "maintenance_notify_72_hr",
    "maintenance_notify_24_hr",
    "maintenance_notify_1_hr",
)
_REQUIRED = ("statuspage_id", "maintenance_name", "maintenance_details", *_FLAGS)


def _error(status: int, message: str) -> Reply:
    return status, {"status": {"error": "yes", "message": message}}


class FakeStatusIO(FakeServer):
    def __init__(self, statuspage_id: str, api_id: str, api_key: str) -> None:
        self.statuspage_id, self.api_id, self.api_key = statuspage_id, api_id, api_key
        self.maintenances: list[dict[str, Any]] = []
        self.problems: list[str] = []
        super().__init__(self._route)

    def _problem(self, status: int, message: str) -> Reply:
        self.problems.append(message)
        return _error(status, message)

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply | None:
        if headers.get("x-api-id") != self.api_id or headers.get("x-api-key") != self.api_key:
            return self._problem(401, "Authentication failed")
        if method == "GET" and path.startswith("/v2/maintenance/list/"):
            if path.rsplit("/", 1)[1] != self.statuspage_id:
                return self._problem(400, "Invalid statuspage_id")
            return 200, {
                "status": {"error": "no", "message": "OK"},
                "result": {
                    "active_maintenances": [],
                    "upcoming_maintenances": self.maintenances,
                    "resolved_maintenances": [],
                },
            }
        if method == "POST" and path == "/v2/maintenance/schedule":
            return self._schedule(body)
        if method == "POST" and path == "/v2/maintenance/delete":
            return self._delete(body)
        return None

    def _delete(self, body: Any) -> Reply:
        """Only the fault tests delete (a duplicate they scheduled), as status.io's API does."""
        found = [m for m in self.maintenances if m["_id"] == body.get("maintenance_id")]
        if body.get("statuspage_id") != self.statuspage_id or not found:
            return self._problem(400, "Invalid statuspage_id or maintenance_id")
        self.maintenances.remove(found[0])
        return 200, {"status": {"error": "no", "message": "OK"}, "result": True}

    def _schedule(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            return self._problem(400, "the body is not a JSON object")
        missing = [key for key in _REQUIRED if key not in body]
        if missing:
            return self._problem(400, f"missing {', '.join(missing)}")
        if body["statuspage_id"] != self.statuspage_id:
            return self._problem(400, "Invalid statuspage_id")
        bad = [key for key in _FLAGS if body[key] not in ("0", "1")]
        for key in ("date_planned_start", "date_planned_end"):
            if not _DATE.match(str(body.get(key, ""))):
                bad.append(key)
        for key in ("time_planned_start", "time_planned_end"):
            if not _TIME.match(str(body.get(key, ""))):
                bad.append(key)
        if not isinstance(body.get("infrastructure_affected", []), list):
            bad.append("infrastructure_affected")
        if body["all_infrastructure_affected"] == "0" and not body.get("infrastructure_affected"):
            bad.append("infrastructure_affected (empty while all_infrastructure_affected is 0)")
        if bad:
            return self._problem(400, f"invalid {', '.join(bad)}")
        start = datetime.strptime(
            f"{body['date_planned_start']} {body['time_planned_start']}", "%m/%d/%Y %H:%M"
        )
        end = datetime.strptime(
            f"{body['date_planned_end']} {body['time_planned_end']}", "%m/%d/%Y %H:%M"
        )
        if end <= start:
            return self._problem(400, "the planned end is not after the planned start")
        maintenance_id = uuid.uuid4().hex[:24]
        self.maintenances.append(
            {
                "_id": maintenance_id,
                "name": body["maintenance_name"],
                "message": body["maintenance_details"],
                "datetime_planned_start": start.isoformat() + "Z",
                "datetime_planned_end": end.isoformat() + "Z",
                "infrastructure_affected": body.get("infrastructure_affected", []),
            }
        )
        return 200, {"status": {"error": "no", "message": "OK"}, "result": maintenance_id}
