"""Pure comparison, the run over batches (fake source, held and feeder), and the command's
arguments and settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from pydantic import ValidationError
from stripe._http_client import HTTPClient

from contracts.limits import MAX_VALUE_BYTES
from contracts.topics import STRIPE_CHARGE, STRIPE_PAYMENT_INTENT, STRIPE_REFUND
from orchestration import reconcile as cli
from orchestration.reconciliation import ProviderEvent, RawRecord, Window, compare, reconcile
from orchestration.reconciliation.events import WindowError
from orchestration.reconciliation.settings import ReconcileSettings, SettingMissingError
from orchestration.reconciliation.stripe import StripeEventSource, event_from_stripe, window_params

FIXTURES_DIR = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "stripe"
T0 = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(hours=1))


def event(n: int, event_type: str = "charge.succeeded", at: datetime | None = None,
          body: bytes = b"{}") -> ProviderEvent:
    return ProviderEvent("stripe", f"evt_{n}", event_type, at or T0 + timedelta(seconds=n), body)


def test_missing_is_what_the_pipeline_does_not_hold():
    events = [event(1), event(2, "payment_intent.succeeded"), event(3, "charge.refund.updated")]
    result = compare(events, WINDOW, held_ids={"evt_2"})
    assert [e.event_id for e in result.missing] == ["evt_1", "evt_3"]
    assert [e.event_id for e in result.held] == ["evt_2"]


def test_types_without_a_raw_topic_are_never_missing():
    # stripe-mock's canned event is a plan.created: a webhook of it would be dead-lettered.
    result = compare([event(1, "plan.created"), event(2, "customer.created")], WINDOW, set())
    assert result.missing == [] and len(result.unroutable) == 2


def test_events_outside_the_window_are_never_fed():
    early, late = event(1, at=T0 - timedelta(seconds=1)), event(2, at=WINDOW.until)
    result = compare([early, late], WINDOW, set())
    assert [e.event_id for e in result.outside_window] == ["evt_1"]
    assert [e.event_id for e in result.missing] == ["evt_2"]  # the window is closed


def test_an_event_listed_twice_is_counted_once():
    assert len(compare([event(1), event(1)], WINDOW, set()).missing) == 1


def test_a_body_over_the_record_budget_is_reported_not_fed():
    result = compare([event(1, body=b"x" * (MAX_VALUE_BYTES + 1))], WINDOW, set())
    assert result.missing == [] and [e.event_id for e in result.too_large] == ["evt_1"]


def test_the_window_refuses_naive_times_and_an_inverted_range():
    with pytest.raises(WindowError, match="time zone"):
        Window(datetime(2026, 12, 1), T0)  # noqa: DTZ001 - the naive time under test
    with pytest.raises(WindowError, match="after"):
        Window(T0, T0 - timedelta(seconds=1))


def test_the_created_filter_covers_the_window_in_whole_seconds():
    window = Window(T0 + timedelta(microseconds=500), T0 + timedelta(seconds=9.9))
    start = int(T0.timestamp())
    assert window_params(window) == {"created": {"gte": start, "lte": start + 9}, "limit": 100}


class ListedSource:
    provider = "stripe"

    def __init__(self, events: list[ProviderEvent]) -> None:
        self.events = events

    async def list_events(self, window: Window) -> AsyncIterator[ProviderEvent]:
        for listed in self.events:
            yield listed


class Holdings:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.asked: list[list[str]] = []

    async def __call__(self, event_ids: Sequence[str]) -> set[str]:
        self.asked.append(list(event_ids))
        return self.ids & set(event_ids)


class RecordingFeeder:
    def __init__(self, holdings: Holdings) -> None:
        self.records: list[RawRecord] = []
        self.holdings = holdings

    async def feed(self, records: Sequence[RawRecord]) -> None:
        self.records += records
        self.holdings.ids |= {r.key.decode() for r in records}  # the pipeline now holds them


def fixture_events() -> list[ProviderEvent]:
    out = []
    for n, path in enumerate(sorted(FIXTURES_DIR.glob("*.json"))):
        data = json.loads(path.read_bytes())
        data["id"], data["created"] = f"evt_fixture_{n}", int(T0.timestamp()) + n
        out.append(event_from_stripe(data))
    return out


async def test_a_dry_run_lists_and_feeds_nothing():
    holdings = Holdings()
    report = await reconcile(ListedSource(fixture_events()), WINDOW, holdings, None, 5)
    assert report.listed == 18 and len(report.missing) == 18 and report.fed == 0
    assert [len(asked) for asked in holdings.asked] == [5, 5, 5, 3]  # batched
    assert {m.topic for m in report.missing} == {STRIPE_CHARGE, STRIPE_PAYMENT_INTENT,
                                                 STRIPE_REFUND}


async def test_apply_feeds_each_missing_event_once_and_a_second_run_finds_none():
    events = fixture_events()
    holdings = Holdings()
    holdings.ids = {events[0].event_id}
    feeder = RecordingFeeder(holdings)
    source = ListedSource([*events, ProviderEvent("stripe", "evt_plan", "plan.created",
                                                  T0, b"{}")])

    first = await reconcile(source, WINDOW, holdings, feeder, 4)
    second = await reconcile(source, WINDOW, holdings, feeder, 4)

    assert [r.key.decode() for r in feeder.records] == [e.event_id for e in events[1:]]
    assert (first.fed, first.held, first.unroutable) == (17, 1, 1)
    assert (second.fed, second.held, second.missing) == (0, 18, [])
    assert {dict(r.headers)["request_id"] for r in feeder.records} == {
        f"reconciliation-{first.run_id}".encode()}


def test_the_command_reads_times_with_a_zone_unix_seconds_or_now():
    args = cli.parse_args(["--provider", "stripe", "--since", "2026-12-01T00:00:00Z",
                           "--until", "1796083200", "--apply"])
    assert args.window.since == T0 and args.apply
    assert args.window.until == datetime.fromtimestamp(1796083200, UTC)
    for bad in (["--since", "2026-12-01T00:00:00"], ["--since", "yesterday"],
                ["--since", "now", "--until", "2026-12-01T00:00:00Z"]):
        with pytest.raises(SystemExit):
            cli.parse_args(["--provider", "stripe", "--until", "now", *bad])


READER_DSN = "postgresql://payments_reader:unit-test-password-0123@db/payments"


def test_a_missing_api_key_stops_the_command_naming_the_setting(monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", READER_DSN)
    assert cli.main(["--provider", "stripe", "--since", "1", "--until", "2"]) == 2
    assert "STRIPE_API_KEY" in capsys.readouterr().err
    with pytest.raises(SettingMissingError):
        ReconcileSettings().stripe_api_key()


@pytest.mark.parametrize("key", ["pk_test_123", "sk_test_changeme", "whsec_123"])
def test_a_key_that_cannot_list_events_is_refused(monkeypatch, key):
    monkeypatch.setenv("STRIPE_API_KEY", key)
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", READER_DSN)
    with pytest.raises(ValidationError, match="STRIPE_API_KEY"):
        ReconcileSettings()


def test_settings_share_the_pipelines_names(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", READER_DSN)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111/")
    settings = ReconcileSettings()
    assert settings.KAFKA_BOOTSTRAP_SERVERS == "kafka:9092"
    assert settings.POSTGRES_DSN == READER_DSN
    assert settings.STRIPE_API_BASE == "http://127.0.0.1:12111"


@pytest.mark.parametrize("dsn", ["postgresql://payments_reader@db/payments",
                                 "postgresql://payments_reader:replace_me_local_only@db/payments"])
def test_a_dsn_without_a_real_password_stops_the_command_naming_it(monkeypatch, capsys, dsn):
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", dsn)
    assert cli.main(["--provider", "stripe", "--since", "1", "--until", "2"]) == 2
    err = capsys.readouterr().err
    assert "ORCHESTRATOR_READER_POSTGRES_DSN" in err and "replace_me" not in err


class PagedEvents(HTTPClient):
    """Stripe's pagination, which stripe-mock cannot show (its has_more is always false):
    pages of real fixture events, newest first, served to the SDK's own HTTP layer."""

    name = "paged-events"

    def __init__(self, events: list[dict], page_size: int) -> None:
        super().__init__()
        self.events, self.page_size = events, page_size
        self.queries: list[dict[str, list[str]]] = []

    async def request_async(self, method, url, headers, post_data=None):
        query = parse_qs(urlsplit(url).query)
        self.queries.append(query)
        start = 0
        if "starting_after" in query:
            start = 1 + [e["id"] for e in self.events].index(query["starting_after"][0])
        page = self.events[start:start + self.page_size]
        body = {"object": "list", "url": "/v1/events", "data": page,
                "has_more": start + self.page_size < len(self.events)}
        return json.dumps(body).encode(), 200, {"request-id": "req_paged"}

    async def close_async(self):
        return None


async def test_every_page_is_listed_with_the_window_on_each_request():
    events = [{**json.loads(path.read_bytes()), "id": f"evt_page_{n}"}
              for n, path in enumerate(sorted(FIXTURES_DIR.glob("*.json")))]
    http = PagedEvents(events, page_size=5)
    source = StripeEventSource(stripe.StripeClient("sk_test_unit", http_client=http))

    listed = [e.event_id async for e in source.list_events(WINDOW)]

    assert listed == [e["id"] for e in events]  # 18 events over 4 pages
    assert len(http.queries) == 4
    bounds = window_params(WINDOW)["created"]
    for query in http.queries:
        assert query["created[gte]"] == [str(bounds["gte"])]
        assert query["created[lte]"] == [str(bounds["lte"])]
        assert query["limit"] == ["100"]
    assert [q.get("starting_after") for q in http.queries] == [
        None, ["evt_page_4"], ["evt_page_9"], ["evt_page_14"]]
