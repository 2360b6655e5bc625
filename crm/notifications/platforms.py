"""What each chat platform's group robot expects and answers: signing, payloads, limits, error codes.

Pure functions over plain values (no Django, no network), so the workers, the test command and the
tests build exactly the same request. The platforms' documentation defines:

* DingTalk custom robot: `timestamp` (ms) and `sign` query parameters, sign = URL-encoded
  base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")); answers {"errcode": 0, "errmsg": "ok"};
  20 messages a minute per robot (more and it is throttled for 10 minutes), errcode 130101.
* WeCom group robot: the key is in the webhook URL; markdown content at most 4096 bytes; 20 messages a
  minute, errcode 45009 when exceeded.
* Feishu / Lark custom bot: `timestamp` (s) and `sign` in the JSON body, sign =
  base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b"")); answers {"code": 0, ...} (older bots
  {"StatusCode": 0}); 100 a minute and 5 a second, code 9499 or 11232 when exceeded.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit, urlunsplit

DINGTALK = "dingtalk"
WECOM = "wecom"
FEISHU = "feishu"
EMAIL = "email"
ROBOTS = (DINGTALK, WECOM, FEISHU)

# (messages, window in milliseconds) a robot may send; every pair must hold. One second of margin on
# the minute: the platform counts by its clock on arrival, the limiter by Redis' clock on sending.
RATE_LIMITS: dict[str, tuple[tuple[int, int], ...]] = {
    DINGTALK: ((20, 61_000),),
    WECOM: ((20, 61_000),),
    FEISHU: ((100, 61_000), (5, 1_100)),
}
# The largest markdown text one message carries, in UTF-8 bytes (WeCom refuses more than 4096; the
# others take about 20 000 bytes of body, and the envelope and title need room).
MAX_MARKDOWN_BYTES = {DINGTALK: 18_000, WECOM: 4_000, FEISHU: 18_000}
# The platforms' "too frequent" answers: worth another try once the window has passed.
RATE_LIMITED_CODES = {DINGTALK: {130101}, WECOM: {45009}, FEISHU: {9499, 11232}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` query value: URL-encoded base64 of HMAC-SHA256(secret, "{ts}\\n{secret}")."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's `sign` body value: base64 of HMAC-SHA256 keyed by "{ts}\\n{secret}" over no bytes."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Request:
    """One POST to a robot: where, and the exact JSON body bytes."""

    url: str
    body: bytes


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _with_query(url: str, extra: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def build_request(kind: str, *, url: str, secret: str, title: str, markdown: str, now_ms: int) -> Request:
    """The request that posts `markdown` (with `title`) to the robot at `url`, signed at `now_ms`."""
    if kind == DINGTALK:
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n\n{markdown}"}}
        if secret:
            url = _with_query(url, f"timestamp={now_ms}&sign={dingtalk_sign(secret, now_ms)}")
        return Request(url, _json(payload))
    if kind == WECOM:
        return Request(
            url, _json({"msgtype": "markdown", "markdown": {"content": f"### {title}\n{markdown}"}})
        )
    if kind == FEISHU:
        payload: dict = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}},
                "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": markdown}}],
            },
        }
        if secret:
            seconds = now_ms // 1000
            payload = {"timestamp": str(seconds), "sign": feishu_sign(secret, seconds), **payload}
        return Request(url, _json(payload))
    raise ValueError(f"not a robot platform: {kind!r}")


@dataclass(frozen=True)
class Answer:
    """What the platform said: accepted or not, its error code (or the HTTP status), and whether to retry."""

    ok: bool
    code: int | None
    message: str
    retry: bool


def read_answer(kind: str, status: int | None, body: bytes, *, error: str = "") -> Answer:
    """Judge one answer: `status` None means no answer came (a timeout, a refused connection).

    Timeouts, 408, 429, 5xx and the platform's rate-limit codes are worth a retry; any other error
    (a wrong secret, a removed robot, a malformed message) is final.
    """
    if status is None:
        return Answer(False, None, error or "no answer", True)
    text = body.decode("utf-8", "replace")[:500]
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    code = None
    if isinstance(data, dict):
        raw = data.get("code", data.get("StatusCode")) if kind == FEISHU else data.get("errcode")
        code = raw if isinstance(raw, int) else None
        message = str(data.get("msg") or data.get("StatusMessage") or data.get("errmsg") or text)
    else:
        message = text
    if status >= 500 or status in (408, 429):
        return Answer(False, code if code else status, f"HTTP {status}: {message}", True)
    if status >= 300 or code is None:
        return Answer(False, code if code else status, f"HTTP {status}: {message}", False)
    if code == 0:
        return Answer(True, 0, message, False)
    return Answer(False, code, message, code in RATE_LIMITED_CODES.get(kind, set()))


def wait_ms(sent_ms: list[int], now_ms: int, limits: tuple[tuple[int, int], ...]) -> int:
    """Milliseconds to wait before one more message keeps every (count, window) limit; 0: send now.

    `sent_ms` are the times of earlier sends (any order). The Redis limiter runs the same rule in Lua.
    """
    wait = 0
    for count, window in limits:
        recent = sorted(t for t in sent_ms if t > now_ms - window)
        if len(recent) >= count:
            # The send that has to leave the window before another fits.
            oldest = recent[len(recent) - count]
            wait = max(wait, oldest + window - now_ms)
    return wait


def backoff_seconds(attempt: int, *, base: int = 30, cap: int = 900) -> int:
    """Seconds before retry `attempt` (1, 2, ...): 30, 60, 120, ... at most 15 minutes."""
    return min(cap, base * 2 ** max(0, attempt - 1))


def split_bilingual(text: str) -> tuple[str, str]:
    """("中文", "English") of a "中文 / English" text; both the whole text when it has no such split."""
    left, sep, right = text.rpartition("/ ")
    if not sep or not left.strip() or not right.strip():
        return text, text
    return left.strip(), right.strip()


def pack_lines(lines: list[str], *, max_bytes: int, max_lines: int) -> list[list[str]]:
    """Group lines into as few messages as fit: each at most `max_bytes` (joined by newlines) and
    `max_lines` lines. A line too long for any message is cut to fit on its own."""
    chunks: list[list[str]] = []
    size = 0
    for line in lines:
        encoded = line.encode()
        if len(encoded) > max_bytes:
            line = encoded[: max_bytes - 3].decode("utf-8", "ignore") + "…"
            encoded = line.encode()
        cost = len(encoded) + (1 if chunks and chunks[-1] else 0)
        if not chunks or size + cost > max_bytes or len(chunks[-1]) >= max_lines:
            chunks.append([line])
            size = len(encoded)
        else:
            chunks[-1].append(line)
            size += cost
    return chunks


def robot_url_masked(url: str) -> str:
    """The URL with its query (DingTalk's access_token, WeCom's key) and any path token hidden."""
    parts = urlsplit(url)
    path = parts.path
    if len(path) > 24:  # Feishu keeps its token in the path: /open-apis/bot/v2/hook/<token>
        head, _, tail = path.rpartition("/")
        path = f"{head}/{tail[:4]}…" if tail else path
    return urlunsplit((parts.scheme, parts.netloc, path, "…" if parts.query else "", ""))
