"""The Stripe source through the official SDK against stripe-mock, Stripe's own emulator.

What stripe-mock answers (v0.203.0, found here and written down in orchestration/README.md):
``GET /v1/events`` validates its parameters (unknown ones and malformed ``created`` bounds
are refused) and the key, but ignores the ``created`` window and the cursor: every list is
one page, ``has_more`` false, holding its one canned event (a ``plan.created``) or the one
event ``-fixtures`` gives it, keys sorted. So this checks the request the SDK sends and the
mapping of what comes back; windows beyond that are the pure ``compare``'s (unit tests).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stripe

from contracts.topics import STRIPE_CHARGE
from orchestration.reconciliation import Window, reconcile
from orchestration.reconciliation.stripe import PAGE_SIZE, StripeEventSource, window_params
from tests.stripe_mock import API_KEY, StripeMock, write_event_fixtures

FIXTURE = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "stripe" / \
    "charge.succeeded.json"
CANNED_ID, CANNED_TYPE, CANNED_CREATED = "evt_1Pgc76B7WZ01zgkWwyRHS12y", "plan.created", 1234567890


@pytest.fixture(scope="module")
def canned_mock(tmp_path_factory):
    mock = StripeMock(tmp_path_factory.mktemp("stripe-mock") / "canned.log").start()
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def real_event() -> dict:
    event = json.loads(FIXTURE.read_bytes())
    event["id"], event["created"] = "evt_reconciliation_mock_1", int(
        datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())
    return event


@pytest.fixture(scope="module")
def fixture_mock(tmp_path_factory, real_event):
    folder = tmp_path_factory.mktemp("stripe-mock-fixtures")
    fixtures = write_event_fixtures(folder / "fixtures.json", real_event)
    mock = StripeMock(folder / "fixtures.log", fixtures).start()
    yield mock
    mock.stop()


async def listed(mock: StripeMock, window: Window) -> list:
    source = StripeEventSource.connect(API_KEY, mock.api_base)
    return [event async for event in source.list_events(window)]


def day_window(day: datetime) -> Window:
    return Window(day, day + timedelta(days=1) - timedelta(microseconds=1))


async def test_the_canned_event_is_listed_and_is_nothing_to_feed(canned_mock):
    window = day_window(datetime(2026, 12, 1, tzinfo=UTC))
    events = await listed(canned_mock, window)

    # One page of one event, whatever the window: stripe-mock ignores `created`.
    assert [(e.event_id, e.event_type, int(e.created.timestamp())) for e in events] == [
        (CANNED_ID, CANNED_TYPE, CANNED_CREATED)]

    async def nothing_held(ids):
        return set()

    report = await reconcile(StripeEventSource.connect(API_KEY, canned_mock.api_base), window,
                             nothing_held, None)
    assert (report.listed, report.outside_window, report.missing) == (1, 1, [])
    inside = Window(datetime.fromtimestamp(CANNED_CREATED, UTC),
                    datetime.fromtimestamp(CANNED_CREATED, UTC))
    report = await reconcile(StripeEventSource.connect(API_KEY, canned_mock.api_base), inside,
                             nothing_held, None)
    assert (report.unroutable, report.missing) == (1, [])  # plan.* has no raw topic


async def test_the_sdk_sends_a_window_and_page_size_stripe_mock_accepts(canned_mock):
    client = stripe.StripeClient(API_KEY, base_addresses={"api": canned_mock.api_base})
    params = window_params(day_window(datetime(2026, 12, 1, tzinfo=UTC)))
    page = await client.v1.events.list_async(params=params)
    assert page.object == "list" and page.has_more is False and len(page.data) == 1
    assert params["limit"] == PAGE_SIZE == 100
    # The validation is real: a malformed bound or an unknown parameter is refused.
    for bad in ({"created": {"gte": "yesterday"}}, {"created_after": 1}):
        with pytest.raises(stripe.InvalidRequestError):
            await client.v1.events.list_async(params=bad)  # type: ignore[arg-type]


async def test_a_wrong_key_is_refused(canned_mock):
    source = StripeEventSource.connect("sk_live_but_not_a_test_key", canned_mock.api_base)
    with pytest.raises(stripe.AuthenticationError):
        [event async for event in source.list_events(day_window(datetime.now(UTC)))]


async def test_a_real_event_served_by_stripe_mock_is_missing_and_routed(fixture_mock,
                                                                        real_event):
    window = day_window(datetime(2026, 12, 1, tzinfo=UTC))
    (event,) = await listed(fixture_mock, window)

    assert (event.event_id, event.event_type) == (real_event["id"], "charge.succeeded")
    assert event.created == datetime(2026, 12, 1, 12, tzinfo=UTC)
    # stripe-mock sorts keys (Go maps), so its bytes are not Stripe's; the content is the
    # fixture's exactly (the byte-for-byte rendering is proven on the fixtures in unit tests).
    assert json.loads(event.body) == real_event

    held: set[str] = set()

    async def holdings(ids):
        return held & set(ids)

    source = StripeEventSource.connect(API_KEY, fixture_mock.api_base)
    report = await reconcile(source, window, holdings, None)
    assert [(m.event_id, m.topic) for m in report.missing] == [(real_event["id"], STRIPE_CHARGE)]
    held.add(real_event["id"])
    assert (await reconcile(source, window, holdings, None)).missing == []


async def test_retrieving_reflects_the_id_asked_for(fixture_mock, real_event):
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fixture_mock.api_base})
    fetched = await client.v1.events.retrieve_async("evt_other")
    expected = copy.deepcopy(real_event)
    expected["id"] = "evt_other"
    assert fetched.to_dict(for_json=True) == expected
