"""The pure robot module: signatures, payloads, answers, the rate rule and packing (no database)."""

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote, urlsplit

from crm.notifications import platforms


def test_dingtalk_signs_the_timestamp_and_secret_with_the_secret_as_key_url_encoded():
    # given a secret and a timestamp in milliseconds
    secret, ts = "SEC000", 1700000000000
    # when the request is built
    request = platforms.build_request(
        "dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=T",
        secret=secret,
        title="t",
        markdown="m",
        now_ms=ts,
    )
    # then timestamp and sign are query parameters, sign URL-encoded base64 of HMAC-SHA256
    query = parse_qs(urlsplit(request.url).query)
    expected = base64.b64encode(
        hmac.new(b"SEC000", b"1700000000000\nSEC000", hashlib.sha256).digest()
    ).decode()
    assert query["access_token"] == ["T"]
    assert query["timestamp"] == ["1700000000000"]
    assert query["sign"] == [expected]
    assert unquote(platforms.dingtalk_sign(secret, ts)) == expected


def test_feishu_signs_in_the_body_in_seconds_keyed_by_timestamp_and_secret_over_nothing():
    # given a secret and a time of 1 700 000 000 123 ms
    request = platforms.build_request(
        "feishu",
        url="https://open.feishu.cn/open-apis/bot/v2/hook/x",
        secret="abc",
        title="t",
        markdown="m",
        now_ms=1700000000123,
    )
    # then the body carries the seconds and base64(HMAC-SHA256(key="1700000000\nabc", msg=b""))
    body = json.loads(request.body)
    expected = base64.b64encode(hmac.new(b"1700000000\nabc", b"", hashlib.sha256).digest()).decode()
    assert body["timestamp"] == "1700000000"
    assert body["sign"] == expected
    assert body["msg_type"] == "interactive"
    assert body["card"]["elements"][0]["text"] == {"tag": "lark_md", "content": "m"}
    assert request.url == "https://open.feishu.cn/open-apis/bot/v2/hook/x"


def test_wecom_posts_markdown_to_the_url_with_its_key_unchanged():
    request = platforms.build_request(
        "wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K",
        secret="",
        title="标题",
        markdown="- 一行",
        now_ms=1,
    )
    assert request.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
    assert json.loads(request.body) == {"msgtype": "markdown", "markdown": {"content": "### 标题\n- 一行"}}


def test_answers_are_judged_by_the_platforms_codes():
    # then ok, a wrong secret (final), "too frequent" (retry), a 5xx (retry), no answer (retry)
    ok = platforms.read_answer("dingtalk", 200, b'{"errcode":0,"errmsg":"ok"}')
    wrong = platforms.read_answer("dingtalk", 200, b'{"errcode":310000,"errmsg":"sign not match"}')
    fast = platforms.read_answer("wecom", 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}')
    feishu_fast = platforms.read_answer("feishu", 200, b'{"code":9499,"msg":"Too Many Request"}')
    legacy = platforms.read_answer("feishu", 200, b'{"StatusCode":0,"StatusMessage":"success"}')
    down = platforms.read_answer("feishu", 502, b"bad gateway")
    silent = platforms.read_answer("dingtalk", None, b"", error="TimeoutError: timed out")
    assert (ok.ok, ok.code) == (True, 0)
    assert (wrong.ok, wrong.code, wrong.retry) == (False, 310000, False)
    assert (fast.code, fast.retry) == (45009, True)
    assert (feishu_fast.code, feishu_fast.retry) == (9499, True)
    assert legacy.ok
    assert (down.code, down.retry) == (502, True)
    assert (silent.code, silent.retry, silent.message) == (None, True, "TimeoutError: timed out")


def test_the_rate_rule_waits_for_the_send_that_must_leave_the_window():
    # given 3 a second allowed and sends at 0, 200 and 500 ms
    limits = ((3, 1000),)
    # when a fourth is asked for at 600 ms: the first leaves the window at 1000 ms, 400 ms on
    assert platforms.wait_ms([0, 200, 500], 600, limits) == 400
    # and at 1000 ms it may go at once
    assert platforms.wait_ms([0, 200, 500], 1000, limits) == 0
    # and with a second rule of 4 in 10 s, 5 earlier sends make it wait for the second of them
    assert (
        platforms.wait_ms([0, 100, 5000, 5100, 5200], 6500, ((3, 1000), (4, 10_000))) == 100 + 10_000 - 6500
    )


def test_lines_are_packed_into_as_few_messages_as_fit():
    # given five lines of 10 bytes
    lines = ["0123456789"] * 5
    # when at most 32 bytes (three lines and two newlines) or 2 lines fit
    by_bytes = platforms.pack_lines(lines, max_bytes=32, max_lines=30)
    by_lines = platforms.pack_lines(lines, max_bytes=1000, max_lines=2)
    # then 3 + 2 and 2 + 2 + 1
    assert [len(c) for c in by_bytes] == [3, 2]
    assert [len(c) for c in by_lines] == [2, 2, 1]


def test_bilingual_titles_split_at_the_last_slash_and_space():
    assert platforms.split_bilingual("跟进提醒:甲公司(L-1)/ follow up L-1") == (
        "跟进提醒:甲公司(L-1)",
        "follow up L-1",
    )
    assert platforms.split_bilingual("只有中文") == ("只有中文", "只有中文")


def test_a_robot_url_is_shown_without_its_token():
    assert platforms.robot_url_masked("https://oapi.dingtalk.com/robot/send?access_token=abc") == (
        "https://oapi.dingtalk.com/robot/send?…"
    )
    assert platforms.robot_url_masked("https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef") == (
        "https://open.feishu.cn/open-apis/bot/v2/hook/0123…"
    )
