#!/bin/sh
# Restore a backup of tools/backup.sh into an EMPTY database (createdb first) and instance
# folder, then bring the schema to the code's head. Stop the app and schedulers first.
# docs/operations.md. Usage: tools/restore.sh DIRECTORY
# Environment: CERTFLOW_DATABASE_URL (the empty database), CERTFLOW_INSTANCE_PATH.
set -eu
src=${1:?usage: tools/restore.sh DIRECTORY}
instance=${CERTFLOW_INSTANCE_PATH:?set CERTFLOW_INSTANCE_PATH}
url=$(printf '%s' "${CERTFLOW_DATABASE_URL:?set CERTFLOW_DATABASE_URL}" | sed 's/^postgresql+[a-z0-9]*:/postgresql:/')
(cd "$src" && sha256sum --check --quiet SHA256SUMS)
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" \
    "$src/certflow.dump"
mkdir -p "$instance"
tar -C "$instance" -xf "$src/files.tar"
echo "restored $src into the database and $instance/uploads"
