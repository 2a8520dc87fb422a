"""A small GOV.UK Notify stand-in on 127.0.0.1 that checks every request as Notify's API
documents it (docs.notifications.service.gov.uk/rest-api.html): the Authorization header
"Bearer <JWT>" (HS256, iss = the service id, iat within 30 seconds, signed with the key's
secret), the template ids, the recipient and exactly the expected personalisation keys.
A request that breaks a rule gets Notify's 400/403 error shape and is kept in `problems`."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"surveys_test-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE = "a1b2c3d4-0000-4000-8000-000000000001"
SMS_TEMPLATE = "a1b2c3d4-0000-4000-8000-000000000002"
PERSONALISATION = {"programme", "link", "closing_date", "stop_link"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9]{10,15}$")


class NotifyServer:
    def __init__(self) -> None:
        self.sent: list[dict] = []  # every accepted notification, with "type" and "id"
        self.problems: list[str] = []  # every request refused, and why
        self.statuses: dict[str, str] = {}  # notification id -> status GET returns
        self.refuse_with: tuple[int, str, str] | None = None  # force an error on POST
        self.polled: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> NotifyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, kind: str) -> list[dict]:
        return [n for n in self.sent if n["type"] == kind]

    def _handler(self):
        notify = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _reply(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, code: int, error: str, message: str) -> None:
                notify.problems.append(f"{code} {error}: {message}")
                self._reply(code, {"status_code": code,
                                   "errors": [{"error": error, "message": message}]})

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Bearer "):
                    self._error(401, "AuthError", "Unauthorized: authentication token must be "
                                "provided")
                    return False
                token = header.removeprefix("Bearer ")
                try:
                    if jwt.get_unverified_header(token).get("alg") != "HS256":
                        raise jwt.InvalidAlgorithmError("alg")
                    claims = jwt.decode(token, SECRET, algorithms=["HS256"],
                                        options={"verify_iat": False})
                except jwt.PyJWTError as exc:
                    self._error(403, "AuthError", f"Invalid token: {type(exc).__name__}")
                    return False
                if claims.get("iss") != SERVICE_ID:
                    self._error(403, "AuthError", "Invalid token: service not found")
                    return False
                iat = claims.get("iat")
                if not isinstance(iat, int) or abs(time.time() - iat) > 30:
                    self._error(403, "AuthError", "Error: Your system clock must be accurate "
                                "to within 30 seconds")
                    return False
                return True

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                if not self._authorised():
                    return
                kind = {"/v2/notifications/email": "email",
                        "/v2/notifications/sms": "sms"}.get(self.path)
                if kind is None:
                    self._error(404, "NotFoundError", "Not found")
                    return
                if self.headers.get("Content-Type") != "application/json":
                    self._error(400, "BadRequestError", "Content-Type must be application/json")
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if notify.refuse_with:
                    self._error(*notify.refuse_with)
                    return
                template = EMAIL_TEMPLATE if kind == "email" else SMS_TEMPLATE
                field, pattern = (("email_address", EMAIL) if kind == "email"
                                  else ("phone_number", PHONE))
                allowed = {"template_id", field, "personalisation", "reference"}
                if set(body) - allowed:
                    self._error(400, "ValidationError", f"Additional properties are not "
                                f"allowed ({', '.join(sorted(set(body) - allowed))})")
                elif body.get("template_id") != template:
                    self._error(400, "BadRequestError", "Template not found")
                elif not pattern.match(str(body.get(field, ""))):
                    self._error(400, "ValidationError", f"{field} Not a valid {field}")
                elif set(body.get("personalisation") or {}) != PERSONALISATION or not all(
                        isinstance(v, str) for v in body["personalisation"].values()):
                    self._error(400, "BadRequestError", "Missing personalisation: "
                                f"{sorted(PERSONALISATION - set(body.get('personalisation')))}")
                elif not isinstance(body.get("reference"), str) or not body["reference"]:
                    self._error(400, "ValidationError", "reference expected")
                else:
                    notification_id = str(uuid.uuid4())
                    notify.sent.append({"type": kind, "id": notification_id, **body})
                    notify.statuses[notification_id] = "sending"
                    content = ({"body": "...", "subject": "...", "from_email": "s@notify"}
                               if kind == "email" else {"body": "...", "from_number": "GOVUK"})
                    self._reply(201, {
                        "id": notification_id, "reference": body["reference"],
                        "content": content,
                        "uri": f"{notify.url}/v2/notifications/{notification_id}",
                        "template": {"id": template, "version": 1,
                                     "uri": f"{notify.url}/v2/template/{template}"}})

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                if not self._authorised():
                    return
                match = re.fullmatch(r"/v2/notifications/([0-9a-f-]{36})", self.path)
                if not match or match[1] not in notify.statuses:
                    self._error(404, "NoResultFound", "No result found")
                    return
                notify.polled.append(match[1])
                sent = next(n for n in notify.sent if n["id"] == match[1])
                self._reply(200, {"id": match[1], "reference": sent["reference"],
                                  "type": sent["type"], "status": notify.statuses[match[1]],
                                  "template": {"id": sent["template_id"], "version": 1}})

        return Handler
