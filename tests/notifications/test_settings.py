"""NOTIFY_ALLOWED_HOSTS and SITE_URL are checked when the settings load (config/notify.py)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.notify import PLATFORM_HOSTS, allowed_hosts, site_url


def test_the_default_hosts_are_the_four_platforms():
    assert allowed_hosts(list(PLATFORM_HOSTS)) == [
        "oapi.dingtalk.com",
        "qyapi.weixin.qq.com",
        "open.feishu.cn",
        "open.larksuite.com",
    ]


@pytest.mark.parametrize("value", [[], ["https://oapi.dingtalk.com"], ["oapi.dingtalk.com/robot"], [" "]])
def test_a_host_list_that_is_empty_or_not_bare_host_names_fails_loudly(value):
    with pytest.raises(ImproperlyConfigured, match="NOTIFY_ALLOWED_HOSTS"):
        allowed_hosts(value)


def test_host_names_are_compared_in_lower_case():
    assert allowed_hosts([" OAPI.DingTalk.com "]) == ["oapi.dingtalk.com"]


def test_the_site_url_loses_its_trailing_slash_and_must_be_http():
    assert site_url("https://crm.example.org/") == "https://crm.example.org"
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        site_url("crm.example.org")
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        site_url("ftp://crm.example.org")
