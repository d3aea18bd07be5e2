# One image for every process of compose.yaml; the command picks the process.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# requirements.lock holds the runtime dependencies only (tests and bench use requirements-dev.lock).
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN DJANGO_SETTINGS_MODULE=config.settings.prod SECRET_KEY=build-only-key-not-used-at-runtime-000000 \
    python manage.py collectstatic --noinput
USER nobody
