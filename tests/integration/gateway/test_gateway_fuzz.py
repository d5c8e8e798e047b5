"""Random bodies and headers against the real app and broker never yield a 5xx but 503."""

from __future__ import annotations

import string

import orjson
from gateway_kafka_support import FIXTURES_DIR, sign, unique_fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Fresh event ids: what this test gets accepted lands on shared raw topics, where other
# tests must never mistake it for theirs.
FIXTURE_BODIES = [unique_fixture(path.stem)[1] for path in sorted(FIXTURES_DIR.glob("*.json"))]
HEADER_TEXT = st.text(alphabet=string.printable.strip() + " ", max_size=80)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10,
)
BODIES = st.one_of(
    st.binary(max_size=512),
    JSON_VALUES.map(orjson.dumps),
    st.sampled_from(FIXTURE_BODIES),
    st.tuples(st.sampled_from(FIXTURE_BODIES), st.integers(0, 2000), st.binary(max_size=4)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:]
    ),
)


@st.composite
def requests(draw):
    body = draw(BODIES)
    headers = {}
    content_type = draw(st.sampled_from([None, "application/json", "text/plain", "other"]))
    if content_type == "other":
        content_type = draw(HEADER_TEXT)
    if content_type is not None:
        headers["content-type"] = content_type
    signature = draw(st.sampled_from(["none", "valid", "stale", "random"]))
    if signature == "valid":
        headers["stripe-signature"] = sign(body)
    elif signature == "stale":
        headers["stripe-signature"] = sign(body, timestamp=draw(st.integers(0, 2**40)))
    elif signature == "random":
        headers["stripe-signature"] = draw(HEADER_TEXT)
    extra = draw(st.dictionaries(st.sampled_from(["x-request-id", "content-length-x",
                                                  "x-forwarded-for", "user-agent"]),
                                 HEADER_TEXT, max_size=3))
    return body, {**extra, **headers}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests())
async def test_no_request_gets_a_5xx_other_than_503(gateway_client, request):
    body, headers = request
    response = await gateway_client.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "reason" in response.json() or response.json()["status"] in {"accepted",
                                                                       "dead_lettered"}
