"""The size budget of every Kafka record the pipeline writes: one number, the rest derived.

``MAX_RECORD_BYTES`` is the broker's ``message.max.bytes``, every topic's
``max.message.bytes`` and every producer's ``max_request_size``. The largest value a record
may carry is what is left once the largest key, the largest headers and the record-batch
framing are taken off; the gateway's body limit is that value size, so a body it accepts is
a record the broker accepts. ``FRAMING_BYTES`` is checked against aiokafka's own batch
builder by ``tests/unit/contracts/test_limits.py`` (measured: 83 bytes for one record).

Dead letters never copy a payload whole: they carry a bounded excerpt, its sha256 and its
length, and address the full bytes by their source coordinates.
"""

MAX_RECORD_BYTES = 1_048_576
# The largest key any producer writes (provider event ids, event ids, coordinates).
MAX_KEY_BYTES = 512
# The largest sum of header names and values on one record.
MAX_HEADERS_BYTES = 1_024
# Room for the v2 record batch header and the record's own varints; measured, with margin.
FRAMING_BYTES = 128
MAX_VALUE_BYTES = MAX_RECORD_BYTES - FRAMING_BYTES - MAX_KEY_BYTES - MAX_HEADERS_BYTES

# A dead letter, encoded, never exceeds this, whatever it describes.
DEAD_LETTER_MAX_BYTES = 64 * 1024
# The part of a refused payload a dead letter keeps for a reviewer to read.
PAYLOAD_EXCERPT_BYTES = 4 * 1024
# Each validation message, and the detail a gateway dead letter carries.
ISSUE_MESSAGE_MAX_CHARS = 512
MAX_ISSUES = 32


def headers_size(headers: list[tuple[str, bytes]]) -> int:
    """What ``MAX_HEADERS_BYTES`` counts: header names and values, without framing."""
    return sum(len(name.encode()) + len(value) for name, value in headers)


def cut_utf8(text: str, limit: int) -> bytes:
    """At most ``limit`` bytes of ``text``'s UTF-8, never splitting a character."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return encoded
    return encoded[:max(0, limit)].decode("utf-8", "ignore").encode()
