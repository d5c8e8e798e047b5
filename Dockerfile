# One image for every service of the pipeline; compose picks the command.
# BASE_IMAGE: any Debian bookworm. Docker users get the official slim one; `make test-compose`
# passes a base it made from Debian's packages (infra/compose/base.sh), as nothing is pulled there.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# Debian's Python 3.11 (the project allows 3.11-3.13), and uv to install uv.lock exactly.
# pip and uv verify TLS against the system bundle, so a base with extra CAs works behind a proxy.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    UV_NATIVE_TLS=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/bin/python3 \
    PATH=/app/.venv/bin:$PATH

RUN apt-get update -qq >/dev/null \
 && apt-get install -y -qq --no-install-recommends ca-certificates python3 python3-venv >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir --quiet uv \
 && ln -s /opt/uv/bin/uv /usr/local/bin/uv
WORKDIR /app

COPY pyproject.toml uv.lock README.md ./
RUN uv sync --quiet --frozen --no-dev --no-install-project

COPY contracts ./contracts
COPY telemetry ./telemetry
COPY encryption ./encryption
COPY gateway ./gateway
COPY streams ./streams
COPY orchestration ./orchestration
COPY batch ./batch
COPY inference ./inference
COPY infra ./infra
COPY bench ./bench
RUN uv sync --quiet --frozen --no-dev

# /data is the app-data volume: Dagster's home, the Iceberg warehouse, faust's tables.
RUN useradd --create-home --uid 10001 pipeline && mkdir -p /data && chown pipeline /data
USER pipeline
