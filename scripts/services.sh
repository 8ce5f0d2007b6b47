#!/usr/bin/env bash
# Make sure Redis and PostgreSQL answer on 127.0.0.1 for the integration tests: start them when
# installed but stopped, install them with apt-get when missing and we are root, and say clearly
# what is still missing otherwise (the tests then skip locally and fail on CI).
set -uo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
as_root() { [ "$(id -u)" = 0 ]; }
apt_install() {
  if as_root && have apt-get; then
    echo "instep services: installing $* with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >/dev/null
  else
    return 1
  fi
}
wait_for() {  # wait_for NAME CMD...
  local name="$1"; shift
  for _ in $(seq 1 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "instep services: $name did not come up" >&2; return 1
}

redis_up() { have redis-cli && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if redis_up; then
  echo "instep services: Redis is up on 127.0.0.1:6379"
else
  have redis-server || apt_install redis-server || true
  if have redis-server; then
    mkdir -p /tmp/instep-redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /tmp/instep-redis --logfile /tmp/instep-redis/redis.log >/dev/null
    wait_for Redis redis_up && echo "instep services: started Redis on 127.0.0.1:6379"
  else
    echo "instep services: MISSING Redis (install redis-server); Redis tests will skip (fail on CI)" >&2
  fi
fi

pg_up() { have pg_isready && pg_isready -h 127.0.0.1 -p 5432 -q; }
if pg_up; then
  echo "instep services: PostgreSQL is up on 127.0.0.1:5432"
else
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql || true; fi
  if have pg_ctlcluster && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
    wait_for PostgreSQL pg_up && echo "instep services: started PostgreSQL on 127.0.0.1:5432"
  else
    echo "instep services: MISSING PostgreSQL; the PostgreSQL variants of the tests will not run" >&2
  fi
fi
if pg_up && have psql; then
  # The tests use database `test` as user postgres over TCP (trust auth on the dev machines).
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null 2>&1 \
    || echo "instep services: could not create database 'test' as postgres@127.0.0.1" >&2
fi
exit 0
