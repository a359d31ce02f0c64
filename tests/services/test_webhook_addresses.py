"""Which addresses a clinic's webhook may reach (app/services/webhook_addresses.py), and the
WEBHOOK_ALLOWED_NETWORKS setting. No network: numbers only, and a resolver the test controls."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from app.config import Alerts
from app.services import alert_settings
from app.services.webhook_addresses import (
    RefusedAddressError,
    checked_addresses,
    kind_of_refused,
    literal_address,
)
from tests.alert_receivers import REFUSED_WEBHOOK_HOSTS, fake_dns

PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "2002:808:808::", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("host", REFUSED_WEBHOOK_HOSTS.values(), ids=REFUSED_WEBHOOK_HOSTS)
def test_every_internal_class_is_refused_in_every_spelling(host: str) -> None:
    address = literal_address(host.strip("[]"))
    assert address is not None
    assert kind_of_refused(address) is not None
    problem = alert_settings.webhook_url_problem(
        f"https://{host}/hook", allow_http=False, allowed_networks=()
    )
    assert problem == alert_settings.NOT_ON_THE_INTERNET


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_allowed(text: str) -> None:
    assert kind_of_refused(ip_address(text)) is None


def test_an_allowed_network_lets_its_addresses_through_and_no_others() -> None:
    allowed = [ip_network("10.20.0.0/16"), ip_network("fd00:ba::/32")]
    assert kind_of_refused(ip_address("10.20.9.9"), allowed) is None
    assert kind_of_refused(ip_address("::ffff:10.20.9.9"), allowed) is None  # the same host
    assert kind_of_refused(ip_address("fd00:ba::1"), allowed) is None
    assert kind_of_refused(ip_address("10.21.0.1"), allowed) == "private"
    assert kind_of_refused(ip_address("127.0.0.1"), allowed) == "loopback"
    assert kind_of_refused(ip_address("169.254.169.254"), allowed) == "link-local"


def test_names_are_left_to_the_resolver_and_checked_by_what_it_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert literal_address("hooks.riverside.example") is None
    fake_dns(monkeypatch, "hooks.riverside.example", ["93.184.215.14"], ["93.184.215.14", "::1"])
    assert checked_addresses("hooks.riverside.example", 443) == ["93.184.215.14"]
    with pytest.raises(RefusedAddressError, match="loopback"):
        checked_addresses("hooks.riverside.example", 443)


def test_the_setting_takes_networks_and_names_a_bad_one() -> None:
    configured = Alerts(webhook_allowed_networks=" 10.20.0.0/16, fd00:ba::/32 ,")
    assert configured.webhook_networks == (
        ip_network("10.20.0.0/16"),
        ip_network("fd00:ba::/32"),
    )
    assert Alerts().webhook_networks == ()  # none by default
    for bad in ("10.20.0.1/16", "intranet", "10.0.0.0/33"):
        with pytest.raises(ValueError, match=f"WEBHOOK_ALLOWED_NETWORKS: '{bad}'"):
            Alerts(webhook_allowed_networks=bad)
