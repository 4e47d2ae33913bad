"""Multicast through sockets.udp, in a private network namespace on loopback, TTL 0 (spec §3.2).

The scenario itself lives in netns_scenarios.multicast; see there why it needs a namespace.
"""

from __future__ import annotations

import pytest
from fsutil import run_in_netns

OK = [[0], None]


@pytest.fixture(scope="module", params=["multicast_v4", "multicast_v6"])
def observed(request: pytest.FixtureRequest) -> dict:
    return run_in_netns(request.param)


def test_join_before_bind_is_unexpected(observed: dict) -> None:
    assert observed["join_before_bind"] == [[-9], {"message": "net::ERR_UNEXPECTED"}]


def test_options_before_bind_succeed(observed: dict) -> None:
    for key in ("ttl_tx", "loop_tx", "ttl_quiet", "loop_quiet", "bind_rx", "bind_tx", "bind_quiet"):
        assert observed[key] == OK, key


def test_options_after_bind_are_refused(observed: dict) -> None:
    assert observed["ttl_after_bind"] == [[-23], {"message": "net::ERR_SOCKET_IS_CONNECTED"}]


def test_join_and_receive_own_group(observed: dict) -> None:
    assert observed["join"] == OK
    assert observed["send"][0][0]["resultCode"] == 0
    assert observed["received"] is True


def test_join_twice_and_bad_address(observed: dict) -> None:
    assert observed["join_again"] == [[-108], {"message": "net::ERR_ADDRESS_INVALID"}]
    assert observed["join_not_ip"] == [[-108], {"message": "net::ERR_ADDRESS_INVALID"}]


def test_joined_groups_in_order_and_after_leave(observed: dict) -> None:
    group = observed["groups"][0][0]
    assert len(group) == 1 and observed["groups"][1] is None
    assert observed["leave"] == OK
    assert observed["leave_again"] == [[-108], {"message": "net::ERR_ADDRESS_INVALID"}]
    assert observed["groups_after_leave"] == [[[]], None]
    assert observed["received_after_leave"] is False


def test_ttl_and_loopback_mode_reach_the_socket(observed: dict) -> None:
    assert observed["quiet_opts"] == [0, 0]


def test_loopback_mode_off_keeps_local_members_out(observed: dict) -> None:
    assert observed["send_quiet"][0][0]["resultCode"] == 0
    assert observed["received_quiet"] is False


def test_rejoin_and_close(observed: dict) -> None:
    assert observed["rejoin"] == OK
    assert observed["close"] == [[], None]


def test_dns_failure_is_name_not_resolved() -> None:
    res = run_in_netns("dns_failure")
    assert res["send"] == [[{"resultCode": -105}], {"message": "net::ERR_NAME_NOT_RESOLVED"}]
