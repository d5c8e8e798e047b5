#!/usr/bin/env bash
# Write the env file of one `make test-compose` run: fresh secrets, a fresh simulator seed,
# the local base image, and published ports that never collide with the local stack's.
#   infra/compose/env.sh FILE
set -euo pipefail
file="$1"
umask 077
# One per PostgreSQL role (infra/roles.py) and Kafka principal (infra/kafka_principals.py):
# 32 hex digits, URL- and shell-safe.
password() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
cat > "$file" <<ENV
BASE_IMAGE=${BASE_IMAGE:-localhost/bookworm-base:latest}
POSTGRES_ADMIN_PASSWORD=$(password)
POSTGRES_OWNER_PASSWORD=$(password)
POSTGRES_WORKER_PASSWORD=$(password)
POSTGRES_BATCH_PASSWORD=$(password)
POSTGRES_REVIEWER_PASSWORD=$(password)
POSTGRES_READER_PASSWORD=$(password)
POSTGRES_ERASER_PASSWORD=$(password)
BROKER_KAFKA_SASL_PASSWORD=$(password)
KAFKA_SASL_PASSWORD=$(password)
GATEWAY_KAFKA_SASL_PASSWORD=$(password)
STREAMS_NORMALIZER_KAFKA_SASL_PASSWORD=$(password)
STREAMS_STARTER_KAFKA_SASL_PASSWORD=$(password)
REVIEWER_KAFKA_SASL_PASSWORD=$(password)
STRIPE_WEBHOOK_SECRET=whsec_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
GATEWAY_PROVIDERS=stripe
TEMPORAL_CODEC_KEYS=compose-1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')
TEMPORAL_CODEC_KEY_ID=compose-1
SIMULATOR_RATE=${SIMULATOR_RATE:-20}
SIMULATOR_DURATION=${SIMULATOR_DURATION:-60}
SIMULATOR_SEED=$(date +%s)
KAFKA_HOST_PORT=${COMPOSE_PORT_BASE:-18000}
POSTGRES_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 1))
TEMPORAL_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 2))
TEMPORAL_UI_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 3))
GATEWAY_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 4))
INFERENCE_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 5))
NORMALIZER_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 6))
STARTER_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 7))
DAGSTER_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 8))
GATEWAY_ADMIN_HOST_PORT=$((${COMPOSE_PORT_BASE:-18000} + 10))
ENV
