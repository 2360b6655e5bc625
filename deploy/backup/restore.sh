#!/bin/sh
# Restore one dump of backup.sh into a NEW database, leaving the current one untouched:
#   restore.sh DUMP NEW_DATABASE
# Connects with the libpq variables (PGHOST, PGUSER, PGPASSWORD); refuses a database that exists.
# docs/deploy.md, "Restore a backup", then swaps the new database in while the app is stopped.
set -eu

dump=${1:?usage: restore.sh DUMP NEW_DATABASE}
target=${2:?usage: restore.sh DUMP NEW_DATABASE}

case $target in
  *[!A-Za-z0-9_]*) echo "restore: database name may hold letters, digits and _ only: '$target'" >&2; exit 2 ;;
esac
# An unreadable or truncated file fails here, before anything is created.
pg_restore --list "$dump" > /dev/null
if [ -n "$(psql --dbname=postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$target'")" ]; then
  echo "restore: database $target exists; restore into a new name (nothing was changed)" >&2
  exit 1
fi
createdb --maintenance-db=postgres "$target"
if ! pg_restore --exit-on-error --no-owner --no-privileges --dbname="$target" "$dump"; then
  dropdb --maintenance-db=postgres "$target"
  echo "restore: failed; $target was removed again" >&2
  exit 1
fi
psql --dbname="$target" -q -c "ANALYZE"
migrations=$(psql --dbname="$target" -tAc "SELECT count(*) FROM django_migrations")
echo "restore: $dump restored into $target ($migrations migrations applied)"
