"""The simulator app: realistic provider webhooks, signed to the gateway or onto raw topics.

Three ways in (``simulator`` is the console script, ``streams.simulator:main``):

``faust -A streams.simulator send webhooks.stripe.charge '<json>'``
    faust's own send: the raw topics of this app add the contract's headers and the key
    (streams/simulation/raw_topics.py), so the record is what the gateway would write.
``simulator send --type payment_intent.succeeded [--provider stripe] [--invalid-signature]
[--target gateway|kafka]``
    one event, signed to the gateway (default, ``--gateway-url``) or through faust's producer.
``simulator generate --rate 5 --duration 60 [--target gateway|kafka]``
    a stream of them (``faust -A streams.simulator simulate`` is the same, with every option).

The generators, the signing and the commands' work live in ``streams.simulation``.
"""

from __future__ import annotations

import sys
from typing import Any

import faust
from faust.cli import option

from streams.settings import (
    StreamsSettings,
    broker_credentials,
    contract_raw_topics,
    raw_topic_setting,
)
from streams.simulation.generator import SimulatorMix
from streams.simulation.one_event import send_one
from streams.simulation.raw_topics import RawWebhookTopic
from streams.simulation.signing import SigningSettings
from streams.simulation.simulate import simulate_and_report

settings = StreamsSettings()
signing = SigningSettings()
DEFAULT_GATEWAY = "http://127.0.0.1:8000/webhooks/{provider}"


class SimulatorApp(faust.App):
    """faust.App whose raw topics add the contract's headers (faust's send cannot)."""

    def topic(self, *topics: str, **kwargs: Any) -> Any:
        if len(topics) == 1 and topics[0] in RAW and not kwargs:
            topic = RawWebhookTopic(self, topics=list(topics), key_type=bytes, value_type=bytes,
                                    key_serializer="raw", value_serializer="raw")
            topic.renamed = RAW
            return topic
        return super().topic(*topics, **kwargs)


# this deployment's raw topic name -> the contract's
RAW = {getattr(settings, raw_topic_setting(t)): t for t in contract_raw_topics()}
app = SimulatorApp(
    settings.SIMULATOR_APP_ID,
    broker=settings.broker_url(),
    # An operator's tool: it writes raw topics, which only the gateway and the operator may.
    **broker_credentials(settings.kafka_auth("SIMULATOR")),
    store="memory://",
    datadir=str(settings.app_datadir(settings.SIMULATOR_APP_ID)),
    topic_disable_leader=True,
    producer_acks=-1,
)
raw_topics = {name: app.topic(name) for name in RAW}


def _target(target: str) -> str:
    return DEFAULT_GATEWAY if target == "gateway" else target


@app.command(
    option("--rate", type=float, default=50.0, help="events per second"),
    option("--duration", type=float, default=60.0, help="seconds"),
    option("--seed", type=int, default=7),
    option("--target", default="kafka",
           help="gateway URL ('gateway' for the local one), or 'kafka' for the raw topics"),
    option("--secret", envvar="STRIPE_WEBHOOK_SECRET", default=None),
    option("--failure-ratio", type=float, default=0.15),
    option("--duplicate-ratio", type=float, default=0.05),
    option("--invalid-ratio", type=float, default=0.03),
    option("--report", default=None, help="write the summary as JSON to this path"),
    option("--provider", default="stripe",
           help="stripe (default), adyen, braintree, square or all"),
)
async def simulate(self, rate: float, duration: float, seed: int, target: str,
                   secret: str | None, failure_ratio: float, duplicate_ratio: float,
                   invalid_ratio: float, report: str | None, provider: str) -> None:
    """Generate realistic provider webhooks and print (and optionally save) a summary."""
    await simulate_and_report(settings, signing, provider=provider, rate=rate, duration=duration,
                              seed=seed, target=_target(target), secret=secret, report=report,
                              mix=SimulatorMix(failure_ratio, duplicate_ratio, invalid_ratio),
                              topics=raw_topics)


@app.command(
    option("--type", "event_type", required=True, help="the provider's event type"),
    option("--provider", default="stripe", help="stripe (default), adyen, braintree or square"),
    option("--invalid-signature", is_flag=True, default=False,
           help="sign with a wrong key: the gateway must refuse it (401)"),
    option("--target", default="gateway", help="gateway (default), a gateway URL, or kafka"),
    option("--gateway-url", default=DEFAULT_GATEWAY, help="{provider} is filled in"),
    option("--secret", envvar="STRIPE_WEBHOOK_SECRET", default=None),
    option("--seed", type=int, default=None, help="default: a new event each time"),
)
async def send_event(self, event_type: str, provider: str, invalid_signature: bool, target: str,
                     gateway_url: str, secret: str | None, seed: int | None) -> None:
    """Send one event of a type, through the gateway or straight onto its raw topic."""
    url = gateway_url if target == "gateway" else target
    await send_one(settings, signing, provider=provider, event_type=event_type,
                   invalid_signature=invalid_signature, target=url, secret=secret, seed=seed,
                   topics=raw_topics)


# The console script's subcommands -> this app's faust commands.
SCRIPT_COMMANDS = {"send": "send-event", "generate": "simulate"}


def main() -> None:
    """``simulator send ...`` / ``simulator generate ...``: this app's commands, by faust."""
    args = sys.argv[1:]
    if not args or args[0] not in SCRIPT_COMMANDS:
        sys.exit("usage: simulator send --type <event type> [--provider ...] "
                 "[--invalid-signature] [--target gateway|kafka]\n"
                 "       simulator generate --rate R --duration S [--target gateway|kafka]")
    command = SCRIPT_COMMANDS[args[0]]
    rest = args[1:]
    if command == "simulate" and not any(a.startswith("--target") for a in rest):
        rest = ["--target", "gateway", *rest]  # the console script sends through the gateway
    sys.argv = [sys.argv[0], command, *rest]
    app.main()
