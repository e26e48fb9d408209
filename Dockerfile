# wirewatch worker image: `docker build -t wirewatch .` then `docker run wirewatch run` (the default).
# docker-compose.yml builds it and points it at Apache Kafka with WIREWATCH_BROKER.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the distribution is built from, so edits to tests, docs or tools do not bust this layer.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY wirewatch/ wirewatch/
COPY streams/ streams/
COPY agents/ agents/
RUN pip install . && rm -rf /src

# Run as an unprivileged user; /data holds the worker's Faust tables and state (a volume in compose).
RUN useradd --system --uid 10001 --create-home --home-dir /home/wirewatch wirewatch \
    && mkdir -p /data && chown wirewatch /data
USER wirewatch
WORKDIR /home/wirewatch
# In a container the dashboard must listen beyond loopback; publish the port on 127.0.0.1 on the host.
ENV WIREWATCH_DATA_DIR=/data \
    WIREWATCH_WEB_HOST=0.0.0.0 \
    WIREWATCH_WEB_PORT=6066
VOLUME ["/data"]
EXPOSE 6066

ENTRYPOINT ["wirewatch"]
CMD ["run"]
