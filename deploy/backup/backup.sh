#!/bin/sh
# The `backup` service: pg_dump of the database named by the libpq variables (PGHOST, PGUSER,
# PGPASSWORD, PGDATABASE) into BACKUP_DIR, at start and then every BACKUP_INTERVAL_SECONDS, keeping
# the newest BACKUP_KEEP dumps. `backup.sh --once` makes one dump and exits (before an upgrade).
# Dumps are PostgreSQL's custom format (compressed, restorable table by table): deploy/backup/restore.sh.
set -eu

dir=${BACKUP_DIR:-/backups}
keep=${BACKUP_KEEP:-14}
interval=${BACKUP_INTERVAL_SECONDS:-86400}

for pair in "BACKUP_KEEP=$keep" "BACKUP_INTERVAL_SECONDS=$interval"; do
  case ${pair#*=} in
    '' | *[!0-9]* | 0) echo "backup: ${pair%%=*} must be a positive whole number, not '${pair#*=}'" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"

backup_once() {
  file="$dir/crm-$(date -u +%Y%m%dT%H%M%SZ).dump"
  # Written under another name and renamed when complete: a dump cut off midway is never taken for one.
  pg_dump --format=custom --no-owner --no-privileges --file "$file.partial"
  mv "$file.partial" "$file"
  echo "backup: wrote $file ($(wc -c < "$file") bytes)"
  # The names sort by time; everything past the newest $keep goes.
  ls -1 "$dir"/crm-*.dump | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
    rm -f "$old" && echo "backup: removed $old (keeping $keep)"
  done
}

if [ "${1:-}" = "--once" ]; then
  backup_once
  exit 0
fi
while :; do
  # A failed dump (the database restarting) is logged and tried again at the next interval.
  backup_once || echo "backup: pg_dump failed; next try in $interval s" >&2
  sleep "$interval"
done
