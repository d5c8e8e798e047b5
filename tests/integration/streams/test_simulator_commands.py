"""The simulator's three command lines, run as a user types them, against the real broker and a
real normalizer worker: each event they send comes out normalized.

- ``faust -A streams.simulator send <raw topic> '<value>'`` for each raw topic (headers added by
  the app's raw topics);
- ``simulator send --type ... [--provider ...] [--invalid-signature] [--target kafka]``;
- ``simulator generate --rate R --duration S`` (through the gateway and through faust).

The gateway runs as a subprocess (uvicorn) with GATEWAY_TOPIC_PREFIX, so that it writes to this
test's own copies of the raw topics.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.providers import RAW_HEADERS, RAW_TOPIC_NAMES
from contracts.topics import RAW_TOPICS
from streams.codecs import decode_event
from streams.simulation.one_event import pick_event
from streams.simulation.signing import ProviderKeys
from tests.integration.streams.conftest import FAUST, REPO_ROOT, Worker, free_port
from tests.kafka_clients import kafka_kwargs

pytestmark = pytest.mark.timeout(280)

SIMULATOR = REPO_ROOT / ".venv" / "bin" / "simulator"
SECRET = "whsec_simulator_commands_test_0123456789"
KEYS = ProviderKeys()
TYPES = {"stripe": "payment_intent.succeeded", "adyen": "AUTHORISATION",
         "braintree": "transaction_settled", "square": "payment.updated"}
GATEWAY_ENV = {"GATEWAY_PROVIDERS": ",".join(TYPES), "STRIPE_WEBHOOK_SECRET": SECRET,
               "ADYEN_HMAC_KEY": KEYS.adyen_hmac_key,
               "ADYEN_BASIC_AUTH_USERNAME": KEYS.adyen_username,
               "ADYEN_BASIC_AUTH_PASSWORD": KEYS.adyen_password,
               "BRAINTREE_MERCHANT_ID": "pipeline_merchant",
               "BRAINTREE_PUBLIC_KEY": KEYS.braintree_public_key,
               "BRAINTREE_PRIVATE_KEY": KEYS.braintree_private_key,
               "SQUARE_SIGNATURE_KEY": KEYS.square_signature_key,
               "SQUARE_NOTIFICATION_URL": KEYS.square_notification_url}


@pytest.fixture
async def stack_copy(kafka_bootstrap, unique, tmp_path):
    """Prefixed copies of the raw and output topics, and the environment naming them."""
    prefix = f"test.sim.{unique}."
    names = {topic: prefix + topic for topic in RAW_TOPICS}
    normalized, dlq = prefix + "payments.normalized", prefix + "payments.validation.dlq"
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "GATEWAY_TOPIC_PREFIX": prefix,
           "STREAMS_TOPIC_NORMALIZED": normalized, "STREAMS_TOPIC_VALIDATION_DLQ": dlq,
           "STREAMS_DATA_DIR": str(tmp_path / "faust"), **GATEWAY_ENV,
           **{f"STREAMS_TOPIC_{RAW_TOPIC_NAMES[t].upper()}": n for t, n in names.items()}}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
    await admin.start()
    topics = [*names.values(), normalized, dlq, prefix + "webhooks.dlq"]
    try:
        await admin.create_topics([NewTopic(t, 3, 1) for t in topics])
        yield {"env": env, "raw": names, "normalized": normalized, "prefix": prefix}
        existing = set(await admin.list_topics())
        await admin.delete_topics([t for t in existing if t.startswith(prefix)
                                   or t.startswith(f"test-sim-{unique}-")])
    finally:
        await admin.close()


@pytest.fixture
async def normalizer(stack_copy, unique, tmp_path):
    worker = Worker("streams.normalizer", {**stack_copy["env"],
                                           "STREAMS_NORMALIZER_APP_ID": f"test-sim-{unique}"},
                    tmp_path / "normalizer.log").start()
    try:
        await worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def start_gateway(env: dict[str, str], port: int, log_path) -> subprocess.Popen:
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
async def gateway(stack_copy, tmp_path):
    """The real gateway on a free port, writing to this test's topics."""
    port = free_port()
    proc = start_gateway(stack_copy["env"], port, tmp_path / "gateway.log")
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        async with httpx.AsyncClient() as client:
            for _ in range(120):
                try:
                    if (await client.get(f"{url}/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
            else:
                raise AssertionError((tmp_path / "gateway.log").read_text()[-3000:])
        yield url + "/webhooks/{provider}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(args: list, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=REPO_ROOT, env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


async def read_records(bootstrap: str, topic: str, expect: int, within: float = 90) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap,
                                **kafka_kwargs(), enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        records: list = []
        async with asyncio.timeout(within):
            while len(records) < expect:
                batch = await consumer.getmany(timeout_ms=500)
                records.extend(m for msgs in batch.values() for m in msgs)
        return records
    finally:
        await consumer.stop()


def last_json(stdout: str) -> dict:
    """The summary a command printed last (one line, or indented over several)."""
    return orjson.loads(stdout[stdout.rindex("\n{") + 1:] if "\n{" in stdout else stdout)


# a raw topic of the contract -> the kind of raw topic the generators name it by
RAW_RECORD_KINDS = dict(RAW_TOPIC_NAMES)


def normalized_ids(records) -> set[str]:
    return {decode_event(r.value).event_id for r in records}


@pytest.mark.parametrize("provider", list(TYPES))
async def test_faust_send_puts_a_record_the_normalizer_accepts(provider, stack_copy, normalizer,
                                                               kafka_bootstrap):
    event = pick_event(provider, TYPES[provider], seed=11, keys=KEYS)
    contract_topic = next(t for t, n in RAW_RECORD_KINDS.items() if n == event["topic_kind"])
    topic = stack_copy["raw"][contract_topic]
    args = [sys.executable, FAUST, "-A", "streams.simulator", "send", topic,
            event["value"].decode()]
    if provider == "braintree":  # its key is built from inside the signed XML
        args += ["-k", event["key"]]
    run(args, stack_copy["env"])

    [raw] = await read_records(kafka_bootstrap, topic, 1)
    assert [name for name, _ in raw.headers] == list(RAW_HEADERS)
    assert raw.key == event["key"].encode()
    out = await read_records(kafka_bootstrap, stack_copy["normalized"], 1)
    assert normalized_ids(out) == {f"{provider}:{event['key']}"}


@pytest.mark.parametrize("target", ["gateway", "kafka"])
@pytest.mark.parametrize("provider", list(TYPES))
async def test_simulator_send_one_event(provider, target, stack_copy, normalizer, gateway,
                                        kafka_bootstrap):
    args = [SIMULATOR, "send", "--type", TYPES[provider], "--provider", provider,
            "--seed", "5"]
    args += ["--target", "kafka"] if target == "kafka" else ["--gateway-url", gateway]
    summary = last_json(run(args, stack_copy["env"]).stdout)
    if target == "gateway":
        assert summary["status"] in (200, 202), summary
    out = await read_records(kafka_bootstrap, stack_copy["normalized"], 1)
    assert normalized_ids(out) == {f"{provider}:{summary['key']}"}


async def test_simulator_send_with_an_invalid_signature_is_refused(stack_copy, gateway):
    args = [SIMULATOR, "send", "--type", "charge.succeeded", "--invalid-signature",
            "--gateway-url", gateway]
    summary = last_json(run(args, stack_copy["env"]).stdout)
    assert summary["status"] in (400, 401), summary


@pytest.mark.parametrize("target", ["gateway", "kafka"])
async def test_simulator_generate_a_stream(target, stack_copy, normalizer, gateway,
                                           kafka_bootstrap):
    args = [SIMULATOR, "generate", "--rate", "5", "--duration", "4", "--seed", "9",
            "--target", "kafka" if target == "kafka" else gateway.replace("{provider}", "stripe")]
    summary = last_json(run(args, stack_copy["env"]).stdout)
    assert summary["sent"] == 20 and summary["errors"] == 0, summary
    out = await read_records(kafka_bootstrap, stack_copy["normalized"], summary["valid"])
    assert len(normalized_ids(out)) == summary["valid"]

