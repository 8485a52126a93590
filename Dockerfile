# The project's one image: the case worker (`python worker.py`), the HTTP intake (`python starter.py serve`)
# and the codec server (`python -m runtime.codec_server`); docker-compose.yml picks the command.
#
# No secret is baked in: the payload keys, the intake token and the SF1601 certificate are mounted at run
# time as docker secrets, and environment variables name the files (MISSED_MEETING_*_FILE, _SF1601_CERT).
# .dockerignore keeps data/, deploy/secrets/ and .venv/ out of the build context.

FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml ./
# Only the runtime dependencies (not the project itself, whose code is copied below, nor the dev tools).
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install -r requirements.txt

FROM python:3.11-slim
ARG APP_UID=10001
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MISSED_MEETING_DATA_DIR=/var/lib/missed-meeting
RUN groupadd --system --gid "$APP_UID" app \
    && useradd --system --uid "$APP_UID" --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /var/lib/missed-meeting \
    && chown app:app /var/lib/missed-meeting \
    && chmod 0700 /var/lib/missed-meeting
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# The code and the default policy, owned by root: the app user can read them, not change them.
COPY pyproject.toml worker.py starter.py ./
COPY config ./config
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY intake ./intake
COPY simulation ./simulation
COPY replay ./replay
COPY runtime ./runtime
USER app
VOLUME ["/var/lib/missed-meeting"]
# 8235 intake, 8234 codec server, 9464 worker metrics
EXPOSE 8235 8234 9464
CMD ["python", "worker.py"]
