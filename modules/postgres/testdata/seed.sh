#!/bin/sh
# Sourced by the entrypoint (not executable): proves .sh scripts run, in order.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --no-psqlrc -c "INSERT INTO orders (item, qty) VALUES ('from-shell', 2)"
