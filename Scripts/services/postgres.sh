# Sourced by Scripts/test: starts a throw-away PostgreSQL 15 in a temporary directory on a free
# 127.0.0.1 port (trust authentication, no password) and exports its URL as MLW_TEST_POSTGRES;
# an EXIT trap stops it and removes the directory. Tests that need PostgreSQL read that variable
# and skip without it; in CI a server that cannot start fails the run.
mlw_pg_bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && mlw_pg_bin="$d"; done
if [ -n "$mlw_pg_bin" ]; then
  mlw_pg_dir="$(mktemp -d /tmp/mlw-pg.XXXXXX)"
  mlw_pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  mlw_pg_run=()
  # initdb refuses to run as root: use the package's postgres user then.
  if [ "$(id -u)" = "0" ]; then chown postgres "$mlw_pg_dir"; mlw_pg_run=(runuser -u postgres --); fi
  if "${mlw_pg_run[@]}" "$mlw_pg_bin/initdb" -D "$mlw_pg_dir/data" -U mlw --auth=trust -E UTF8 >"$mlw_pg_dir/initdb.log" 2>&1 \
     && "${mlw_pg_run[@]}" "$mlw_pg_bin/pg_ctl" -D "$mlw_pg_dir/data" -l "$mlw_pg_dir/server.log" -w \
          -o "-p $mlw_pg_port -k $mlw_pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
     && "$mlw_pg_bin/createdb" -h 127.0.0.1 -p "$mlw_pg_port" -U mlw mlw; then
    export MLW_TEST_POSTGRES="postgres://mlw@127.0.0.1:$mlw_pg_port/mlw"
    trap '"${mlw_pg_run[@]}" "$mlw_pg_bin/pg_ctl" -D "$mlw_pg_dir/data" -m fast stop >/dev/null 2>&1; rm -rf "$mlw_pg_dir"' EXIT
    echo "PostgreSQL for the tests: $MLW_TEST_POSTGRES"
  else
    cat "$mlw_pg_dir"/*.log >&2 2>/dev/null || true
    rm -rf "$mlw_pg_dir"
    if [ "${CI:-}" = "true" ]; then echo "error: could not start PostgreSQL for the tests" >&2; exit 1; fi
    echo "warning: could not start PostgreSQL; its tests will be skipped" >&2
  fi
elif [ "${CI:-}" = "true" ]; then
  echo "error: PostgreSQL is not installed (Debian package postgresql)" >&2; exit 1
fi
