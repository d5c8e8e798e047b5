# One image for every service of the pipeline; compose picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PATH=/app/.venv/bin:$PATH

RUN pip install --no-cache-dir uv
WORKDIR /app

COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY contracts ./contracts
COPY telemetry ./telemetry
COPY gateway ./gateway
COPY streams ./streams
COPY orchestration ./orchestration
COPY batch ./batch
COPY inference ./inference
COPY infra ./infra
COPY bench ./bench
RUN uv sync --frozen --no-dev

RUN useradd --create-home --uid 10001 pipeline && mkdir -p /data && chown pipeline /data
USER pipeline
