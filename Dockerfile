# The self-hosted reviewbot (webhook receiver + embedded workers, or RQ workers).
#
#   docker build -t reviewbot .                       # python:3.12-slim base
#   docker build --build-arg BASE_IMAGE=reviewbot-base:bookworm -t reviewbot .   # a local base
# BASE_IMAGE (build argument, default python:3.12-slim) is the Python image both stages start
# from: a registry mirror's copy, or an image you already have when Docker Hub is out of reach.
# The sandboxes need their own image: docker build --build-arg BASE_IMAGE=... -t reviewbot-sandbox:latest sandbox/
#
#   docker run -p 8080:8080 -e REVIEWBOT_WEBHOOK_SECRET=... -e REVIEWBOT_APP_ID=... \
#       -e REVIEWBOT_PRIVATE_KEY_PATH=/run/secrets/app.pem -v "$PWD/app.pem:/run/secrets/app.pem:ro" \
#       -v reviewbot-data:/data reviewbot
#   docker run ... reviewbot worker                   # scale-out: with REVIEWBOT_QUEUE=redis://...
#
# The bot runs as uid 10001, not root: the App's key file must be readable by uid 10001 inside the
# container. A bind mount (Compose's file `secrets:` too) keeps the host's owner and mode, so on
# the host: chown 10001:10001 app.pem && chmod 0400 app.pem (README.md, "Running it").
#
# Behind a TLS-inspecting proxy, put the proxy's CA bundle at ./build-ca.crt (optional; used by pip
# in the build stage only, never copied into the final image):
#   cp /etc/ssl/certs/ca-certificates.crt build-ca.crt && docker build ...
# How the bot reaches a Docker engine for its sandboxes, and what each way costs in security:
# docs/webhooks.md.

ARG BASE_IMAGE=python:3.12-slim

# ---- build: a virtualenv with reviewbot and its dependencies, nothing else ------------------------
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/reviewbot
WORKDIR /src
# `build-ca.cr[t]`: the glob makes the CA bundle optional.
COPY pyproject.toml README.md build-ca.cr[t] ./
COPY reviewbot ./reviewbot
COPY sandbox ./sandbox
COPY webhooks ./webhooks
RUN if [ -s build-ca.crt ]; then export PIP_CERT=/src/build-ca.crt; fi; \
    /opt/reviewbot/bin/pip install --no-compile . \
    && /opt/reviewbot/bin/python -m compileall -q /opt/reviewbot

# ---- runtime: the venv, git (clones), a non-root user ------------------------------------------
FROM ${BASE_IMAGE} AS runtime
# git fetches the PRs; tini reaps children (git, docker exec helpers) and forwards signals.
RUN if ! command -v git >/dev/null || ! command -v tini >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends git tini ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin reviewbot \
    && mkdir -p /data && chown reviewbot:reviewbot /data
COPY --from=build /opt/reviewbot /opt/reviewbot
ENV PATH=/opt/reviewbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    REVIEWBOT_DATA_DIR=/data \
    HOME=/data
USER reviewbot:reviewbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python3 -c "import sys,urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4); sys.exit(0)"
ENTRYPOINT ["/usr/bin/tini", "--", "reviewbot"]
CMD ["serve", "--port", "8080"]
