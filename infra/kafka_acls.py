"""Applies infra/kafka_principals.py to a running cluster, as the brokers' own principal.

    python -m infra.kafka_acls             # apply: every principal's credential, every ACL
    python -m infra.kafka_acls rotate KEY  # the local stack: a new password for KEY (gateway)

``apply`` is idempotent: it upserts each principal's SCRAM-SHA-512 credential from its
configured password (which is also how a password is rotated) and creates every ACL (an ACL
that exists already is left as it is). `make up` runs it once the cluster is healthy;
compose's ``kafka-init`` runs it before creating the topics. aiokafka's admin client has
neither request, so both are declared here with aiokafka's own protocol types (as
infra/topics.py does IncrementalAlterConfigs).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import sys
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import NoError, for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from contracts.kafka_auth import KafkaAuth, kafka_auth
from infra.kafka_principals import (
    ALLOW,
    BROKER,
    MECHANISM,
    PRINCIPALS,
    AclBinding,
    acl_bindings,
    kafka_settings,
    principal,
)

_SCRAM_SHA_512 = 2  # AlterUserScramCredentials' mechanism code
# Kafka's minimum for SCRAM-SHA-512 (and kafka-configs' default).
SCRAM_ITERATIONS = 4096


class AlterUserScramCredentialsResponse_v0(Response):  # noqa: N801 - aiokafka's naming
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(("user", CompactString("utf-8")), ("error_code", Int16),
                                 ("error_message", CompactString("utf-8")),
                                 ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # noqa: N801 - aiokafka's naming
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        ("deletions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8),
                                   ("tags", TaggedFields))),
        ("upsertions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8),
                                    ("iterations", Int32), ("salt", CompactBytes),
                                    ("salted_password", CompactBytes),
                                    ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest(Request[AlterUserScramCredentialsRequest_v0]):
    API_KEY = 51

    def __init__(self, upsertions: list[tuple[str, bytes, bytes]]) -> None:
        self._upsertions = upsertions

    def build(self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]
              ) -> AlterUserScramCredentialsRequest_v0:
        return request_struct_class(
            [], [(name, _SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted, {})
                 for name, salt, salted in self._upsertions], {})


class CreateAclsRequest(Request[CreateAclsRequest_v1]):
    """aiokafka's own carries one binding; this one carries them all in one request."""

    API_KEY = 30

    def __init__(self, bindings: list[AclBinding]) -> None:
        self._bindings = bindings

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class([
            (b.resource_type, b.resource_name, b.pattern, b.principal, "*", b.operation, ALLOW)
            for b in self._bindings])


def salted_password(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> bytes:
    """SCRAM's Hi(password, salt, i) (RFC 5802), which is PBKDF2 with HMAC-SHA-512 here."""
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)


def admin_client(bootstrap: str, auth: KafkaAuth, **kwargs) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000,
                               **auth.client_kwargs(), **kwargs)


def _raise_errors(what: str, results: list[tuple]) -> None:
    problems = [f"{for_code(code).__name__} {message or ''}".strip()
                for code, message in results if for_code(code) is not NoError]
    if problems:
        raise RuntimeError(f"kafka: could not {what}: " + "; ".join(problems))


async def apply_principals(bootstrap: str, admin: KafkaAuth,
                           passwords: Mapping[str, str]) -> None:
    """Every principal's credential (``passwords``: its password setting -> value; the
    broker's own is left to its brokers' format) and every ACL, signed in as ``admin``."""
    client = admin_client(bootstrap, admin)
    await client.start()
    try:
        upserts = []
        for who in PRINCIPALS:
            if who is BROKER:
                continue
            salt = secrets.token_bytes(32)
            upserts.append((who.name, salt, salted_password(passwords[who.password_setting],
                                                              salt)))
        response = await client._send_to_controller(  # noqa: SLF001 - no public way to send a request aiokafka does not declare
            AlterUserScramCredentialsRequest(upserts))
        _raise_errors("set the SCRAM credentials",
                      [(code, f"{user}: {message}") for user, code, message, _ in
                       response.results])
        response = await client._send_request(CreateAclsRequest(acl_bindings()))  # noqa: SLF001 - as above
        _raise_errors("create the ACLs", response.creation_responses)
    finally:
        await client.close()


def broker_auth(values: Mapping[str, str]) -> KafkaAuth:
    return kafka_auth(values, BROKER.prefix)


async def rotate_passwords(keys: list[str], bootstrap: str) -> list[str]:
    """New passwords for these principals, written to .stack/env and set on the cluster.
    The broker's own is not rotated here: the brokers read it from their configs at start."""
    from infra.stack_env import ENV_FILE, _locked, read, write

    chosen = [principal(k) for k in keys]
    if BROKER in chosen:
        raise SystemExit("kafka_acls: the broker's password is in every broker's config; "
                         "rotate it with `make clean` (a new stack)")
    with _locked(ENV_FILE):
        values = read()
        if not values:
            raise SystemExit(f"{ENV_FILE} does not exist; `make up` writes it")
        values.update({who.password_setting: secrets.token_urlsafe(24) for who in chosen})
        write(values)
    await apply_principals(bootstrap, broker_auth(values), values)
    names = ", ".join(setting for who in chosen for setting in who.settings[2:])
    return [f"rotated {', '.join(who.name for who in chosen)}; restart what reads {names} "
            f"(e.g. `make down && make demo`)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("apply", help="every principal's credential and ACL (the default)")
    rotate = sub.add_parser("rotate", help="the local stack: new passwords in .stack/env")
    rotate.add_argument("keys", nargs="+", choices=[p.key for p in PRINCIPALS if p is not BROKER])
    args = parser.parse_args(argv)
    if args.command == "rotate":
        from infra.kafka_server import cluster_bootstrap

        for line in asyncio.run(rotate_passwords(args.keys, cluster_bootstrap())):
            print(line)
        return 0
    # compose's kafka-init: every password from the environment; each principal's mechanism
    # and username as the stack writes them, unless the environment says otherwise.
    env = {**kafka_settings({}), **os.environ}
    missing = [who.password_setting for who in PRINCIPALS if not env.get(who.password_setting)]
    if missing:
        print(f"kafka_acls: missing setting(s) {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        admin = broker_auth(env)
    except ValueError as err:
        print(f"kafka_acls: invalid configuration: {err}", file=sys.stderr)
        return 2
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    asyncio.run(apply_principals(bootstrap, admin, env))
    print(f"kafka_acls: {MECHANISM} credentials and ACLs of "
          f"{', '.join(p.name for p in PRINCIPALS)} applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
