"""The simulator app: realistic provider webhooks, signed to the gateway or onto raw topics.

Run: ``faust -A streams.simulator simulate --rate 50 --duration 60 --seed 7 \\
      --target http://127.0.0.1:8000/webhooks/stripe --secret whsec_...``
or ``--target kafka`` to skip the gateway. Prints a summary; ``--report`` writes it as JSON.
``--provider adyen|braintree|square|all`` (default stripe) signs as that provider does, with
the gateway's settings (ADYEN_HMAC_KEY, BRAINTREE_PRIVATE_KEY, SQUARE_SIGNATURE_KEY, ...);
an HTTP target may hold ``{provider}``, else its last path segment is the provider.
``faust -A streams.simulator send <topic> '<json>' -k <key>`` sends one event by hand.
The generators, the signing and the command's work live in ``streams.simulation``.
"""

from __future__ import annotations

import faust
from faust.cli import option

from streams.settings import StreamsSettings
from streams.simulation.generator import SimulatorMix
from streams.simulation.signing import SigningSettings
from streams.simulation.simulate import simulate_and_report

settings = StreamsSettings()
signing = SigningSettings()
app = faust.App(
    settings.SIMULATOR_APP_ID,
    broker=settings.broker_url(),
    store="memory://",
    datadir=str(settings.app_datadir(settings.SIMULATOR_APP_ID)),
    topic_disable_leader=True,
)


@app.command(
    option("--rate", type=float, default=50.0, help="events per second"),
    option("--duration", type=float, default=60.0, help="seconds"),
    option("--seed", type=int, default=7),
    option("--target", default="kafka", help="gateway URL, or 'kafka' for the raw topics"),
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
                              seed=seed, target=target, secret=secret, report=report,
                              mix=SimulatorMix(failure_ratio, duplicate_ratio, invalid_ratio))
