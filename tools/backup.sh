#!/bin/sh
# Back up certflow: the PostgreSQL database (pg_dump, custom format: one consistent snapshot, the
# app may keep running) and then the stored files (<instance>/uploads, content-addressed: every
# file a dumped row names was written before that row committed, so copying after the dump
# misses none). docs/operations.md. Usage: tools/backup.sh DIRECTORY
# Environment: CERTFLOW_DATABASE_URL (postgresql://…), CERTFLOW_INSTANCE_PATH.
set -eu
dest=${1:?usage: tools/backup.sh DIRECTORY}
instance=${CERTFLOW_INSTANCE_PATH:?set CERTFLOW_INSTANCE_PATH}
url=$(printf '%s' "${CERTFLOW_DATABASE_URL:?set CERTFLOW_DATABASE_URL}" | sed 's/^postgresql+[a-z0-9]*:/postgresql:/')
mkdir -p "$dest"
pg_dump --format=custom --no-owner --no-privileges --file="$dest/certflow.dump" "$url"
mkdir -p "$instance/uploads"
tar -C "$instance" -cf "$dest/files.tar" uploads
(cd "$dest" && sha256sum certflow.dump files.tar > SHA256SUMS)
echo "backup written to $dest: certflow.dump, files.tar, SHA256SUMS"
