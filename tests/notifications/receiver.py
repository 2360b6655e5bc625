"""A local stand-in for the three platforms' robot endpoints, on 127.0.0.1 in a thread.

It checks each request's signature as the platforms' documentation defines it, computed here
independently of crm.notifications, and answers as the platform does: DingTalk and WeCom
{"errcode": 0, "errmsg": "ok"}, Feishu {"code": 0, "msg": "success"}; a wrong signature or key is
refused with the platform's code (DingTalk 310000, WeCom 93000, Feishu 19021), a robot past its rate
with the platform's "too frequent" code, and answers queued by a test (a 5xx, say) come first.

Paths: /dingtalk/robot/send?access_token=TOKEN, /wecom/cgi-bin/webhook/send?key=KEY,
/feishu/open-apis/bot/v2/hook/TOKEN. A token's secret is registered with `robot()`.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# What the platforms allow (their documentation): DingTalk and WeCom 20 a minute, Feishu 100 a
# minute and 5 a second. Tests may narrow them to keep a run short.
LIMITS = {"dingtalk": [(20, 60.0)], "wecom": [(20, 60.0)], "feishu": [(100, 60.0), (5, 1.0)]}
TOO_FREQUENT = {
    "dingtalk": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    "wecom": {"errcode": 45009, "errmsg": "api freq out of limit"},
    "feishu": {"code": 11232, "msg": "frequency limited"},
}


@dataclass
class Received:
    kind: str
    token: str
    at: float
    body: dict

    @property
    def text(self) -> str:
        if self.kind == "dingtalk":
            return self.body["markdown"]["text"]
        if self.kind == "wecom":
            return self.body["markdown"]["content"]
        return self.body["card"]["elements"][0]["text"]["content"]


@dataclass
class Receiver:
    url: str
    secrets: dict[str, str] = field(default_factory=dict)
    accepted: list[Received] = field(default_factory=list)
    refused: list[tuple[str, dict]] = field(default_factory=list)
    queued: dict[str, list[tuple[int, dict]]] = field(default_factory=lambda: defaultdict(list))
    limits: dict = field(default_factory=lambda: dict(LIMITS))
    delay: float = 0.0  # seconds each answer takes, as a platform's round trip does
    lock: threading.Lock = field(default_factory=threading.Lock)

    def robot(self, kind: str, token: str, secret: str = "") -> str:
        """Register a robot and return its webhook URL."""
        self.secrets[token] = secret
        if kind == "dingtalk":
            return f"{self.url}/dingtalk/robot/send?access_token={token}"
        if kind == "wecom":
            return f"{self.url}/wecom/cgi-bin/webhook/send?key={token}"
        return f"{self.url}/feishu/open-apis/bot/v2/hook/{token}"

    def answer_next(self, token: str, status: int, body: dict) -> None:
        """The robot's next request gets this answer instead of being judged."""
        self.queued[token].append((status, body))


def _judge(receiver: Receiver, kind: str, token: str, query: dict, body: dict) -> tuple[int, dict]:
    if token not in receiver.secrets:
        if kind == "wecom":
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        if kind == "dingtalk":
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        return 200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
    secret = receiver.secrets[token]
    now = time.time()
    if kind == "dingtalk" and secret:
        timestamp = query.get("timestamp", [""])[0]
        # parse_qs has URL-decoded the sign; the signature is base64(HMAC-SHA256(secret, "ts\nsecret")).
        given = query.get("sign", [""])[0]
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if not timestamp.isdigit() or abs(now * 1000 - int(timestamp)) > 3600_000 or given != expected:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
    if kind == "feishu" and secret:
        timestamp = str(body.get("timestamp", ""))
        string_to_sign = f"{timestamp}\n{secret}"
        expected = base64.b64encode(
            hmac.new(string_to_sign.encode(), digestmod=hashlib.sha256).digest()
        ).decode()
        if not timestamp.isdigit() or abs(now - int(timestamp)) > 3600 or body.get("sign") != expected:
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
    if kind == "wecom" and len(body.get("markdown", {}).get("content", "").encode()) > 4096:
        return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
    sent = [r.at for r in receiver.accepted if r.token == token]
    for count, window in receiver.limits[kind]:
        if len([t for t in sent if t > now - window]) >= count:
            return 200, TOO_FREQUENT[kind]
    receiver.accepted.append(Received(kind, token, now, body))
    return 200, (
        {"code": 0, "msg": "success", "data": {}} if kind == "feishu" else {"errcode": 0, "errmsg": "ok"}
    )


def start() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver_box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            receiver = receiver_box[0]
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw or b"{}")
            if parts.path == "/dingtalk/robot/send":
                kind, token = "dingtalk", query.get("access_token", [""])[0]
            elif parts.path == "/wecom/cgi-bin/webhook/send":
                kind, token = "wecom", query.get("key", [""])[0]
            elif parts.path.startswith("/feishu/open-apis/bot/v2/hook/"):
                kind, token = "feishu", parts.path.rsplit("/", 1)[1]
            else:
                self.send_response(404)
                self.end_headers()
                return
            time.sleep(receiver.delay)
            with receiver.lock:
                if receiver.queued[token]:
                    status, answer = receiver.queued[token].pop(0)
                else:
                    status, answer = _judge(receiver, kind, token, query, body)
                if answer.get("errcode", answer.get("code", 0)) != 0 or status != 200:
                    receiver.refused.append((token, answer))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver_box.append(Receiver(url=f"http://127.0.0.1:{server.server_address[1]}"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver_box[0], server
