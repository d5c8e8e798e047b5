"""The faust floor: the normalizer's app and batching with no work, for bench/normalizer.py.

Each Stripe raw topic's events are taken in the normalizer's batches and forwarded as they
are to the output topic (same producer settings, same confirmed sends, same manual acks),
with no parsing, mapping or dedup. Whatever any faust-based normalizer costs, it costs at
least this, so its rate is the ceiling a faust worker can reach on this machine.

    faust -A bench.faust_floor worker  (configured by the normalizer's STREAMS_* settings)
"""

from __future__ import annotations

from functools import partial

from faust.types import EventT, StreamT

from streams.faust_internals import App
from streams.publishing import send_all_confirmed, work_in_batches
from streams.settings import StreamsSettings

settings = StreamsSettings()
app = App(settings.NORMALIZER_APP_ID,
          **settings.normalizer_app_options(settings.NORMALIZER_APP_ID))


async def forward_batch(events: list[EventT]) -> None:
    await send_all_confirmed([
        partial(app.producer.send, settings.TOPIC_NORMALIZED, e.message.key, e.message.value,
                None, None, None)
        for e in events])


async def forward(stream: StreamT[bytes]) -> None:
    await work_in_batches(stream, forward_batch, settings.NORMALIZER_BATCH_MAX,
                          settings.NORMALIZER_BATCH_WITHIN_SECONDS)


for name in (settings.TOPIC_PAYMENT_INTENT, settings.TOPIC_CHARGE, settings.TOPIC_REFUND):
    topic = app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                      value_serializer="raw")
    app.agent(topic, name=f"forward-{name}",
              concurrency=settings.NORMALIZER_CONCURRENCY)(forward)
