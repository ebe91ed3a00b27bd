#!/usr/bin/env bash
# ops/stack.sh - local service stack for development, tests and CI:
#   PostgreSQL 15 (throwaway cluster) + Apache Kafka 3.9 (single-node KRaft broker).
#
# Usage: ops/stack.sh COMMAND [ARGS]
#   install                 apt-get postgresql-15 / java / maven if missing; fetch the
#                           Kafka 3.9.x jars from Maven Central (skipped when present)
#   start                   install + start-pg + start-kafka + start-registry (the registry
#                           only when rivven-schema is installed: ops/install-deps builds it;
#                           AMTAGVI_REGISTRY=0 leaves it out)
#   stop                    stop-registry + stop-kafka + stop-pg (keeps data unless
#                           AMTAGVI_STACK_CLEAN=1)
#   start-pg | stop-pg      PostgreSQL cluster on 127.0.0.1:$AMTAGVI_PG_PORT
#   start-kafka | stop-kafka  Kafka broker on 127.0.0.1:$AMTAGVI_KAFKA_PORT
#   start-registry | stop-registry | restart-registry
#                           Schema Registry (rivven-schema) on 127.0.0.1:$AMTAGVI_REGISTRY_PORT
#   registry start|stop|restart|status|url   the same, and its URL (e.g. for a fault test)
#   create-topic NAME PARTITIONS   create a topic (replication factor 1, idempotent)
#   topics ARGS...          run Kafka's TopicCommand against the local broker
#                           (e.g. topics --describe --topic NAME)
#   status                  one line per service; exit 0 if PostgreSQL and Kafka run (and the
#                           registry, when installed), 3 otherwise
#   env                     print export lines, use as: eval "$(ops/stack.sh env)"
#                           (secure modes: also the CA and the password files, never a password)
#   clean                   stop everything and delete the stack dir (data + jars)
#
# Environment:
#   AMTAGVI_STACK_DIR      state dir (default: <repo>/.local/stack)
#   AMTAGVI_PG_PORT        PostgreSQL port (default 25432, or the port of the last start)
#   AMTAGVI_KAFKA_PORT     Kafka client port (default 25092, or the port of the last
#                          start); the KRaft controller uses AMTAGVI_KAFKA_PORT+1
#                          (keep ports below the ephemeral range, 32768+ on Linux: any
#                          outgoing connection can hold a port there as its local end)
#   AMTAGVI_REGISTRY_PORT  Schema Registry port (default 25081, or the port of the last start)
#   AMTAGVI_RIVVEN_SCHEMA  the rivven-schema binary (default: the one ops/install-deps built in
#                          ${AMTAGVI_CACHE:-$HOME/.cache/amtagvi}/rivven-schema/bin, else PATH)
#                          rivven-schema 0.0.22 `serve` keeps schemas in memory only (it has no
#                          file or database option; its --compatibility flag is only logged, the
#                          level is BACKWARD), so stop-registry saves every subject version to
#                          registry/snapshot.json and start-registry registers them again in id
#                          order (compatibility NONE meanwhile, then the saved global level),
#                          failing if one gets another id than before. A registry killed without
#                          stop-registry comes back empty; per-subject levels are not kept.
#                          For about 1-2 s after start-registry it already answers HTTP while
#                          the restore runs: a client asking for a saved id in that window gets
#                          404 (a worker dead-letters such a message as unknown_schema: the
#                          registry said the id does not exist). A production registry (Confluent,
#                          Karapace, Apicurio) serves only once its store is loaded; the fault
#                          tests pause waiting workers across a restart for this reason.
#   AMTAGVI_REGISTRY_COMPATIBILITY  global level set after start-registry (default: rivven's
#                          BACKWARD). rivven-schema 0.0.22's check refuses any new version of a
#                          schema with logical types (timestamp-millis, uuid, date...) as
#                          "Incompatible types: writer=TimestampMillis, reader=TimestampMillis"
#                          (no case for them); NONE lets such schemas evolve.
#   AMTAGVI_PG_FAST=1      fsync=off, synchronous_commit=off (tests only)
#   AMTAGVI_PG_SHARED_BUFFERS  shared_buffers (default 1GB; also max_wal_size 8GB,
#                          checkpoint_timeout 15min: sized like a small write-heavy server)
#   AMTAGVI_STACK_CLEAN=1  stop/stop-pg/stop-kafka/stop-registry also delete that service's data
#   AMTAGVI_KAFKA_VERSION  Kafka version(s) to try (default "3.9.1 3.9.0")
#   AMTAGVI_KAFKA_HEAP     broker heap flags (default "-Xmx512m -Xms256m")
#   AMTAGVI_KAFKA_START_TIMEOUT  seconds to wait for the broker (default 90)
#   AMTAGVI_PG_TLS=1       start-pg in secure mode (default 0, or the mode of the last start):
#                          TLS with a test CA made once per stack dir (tls/), SCRAM passwords,
#                          TCP only as `hostssl ... scram-sha-256`; the login role amtagvi
#                          (owner of the database amtagvi, not a superuser) gets a random
#                          password kept in secrets/ (mode 600). Clients: sslmode=verify-full
#                          with the CA, see `env`.
#   AMTAGVI_KAFKA_SASL_SSL=1  start-kafka in secure mode (default 0, or the mode of the last
#                          start): the client port is SASL_SSL with SCRAM-SHA-512, users
#                          `amtagvi` (the worker) and `admin` (the broker itself and this
#                          script's tools) with random passwords in secrets/. The users are
#                          made when the broker's storage is formatted, so a broker first
#                          started in plaintext mode needs AMTAGVI_STACK_CLEAN=1 stop-kafka.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd -P)
STACK_DIR=${AMTAGVI_STACK_DIR:-$REPO_DIR/.local/stack}
case $STACK_DIR in /*) ;; *) STACK_DIR=$PWD/$STACK_DIR ;; esac
STACK_DIR=${STACK_DIR%/}

# libpq / pg_ctl settings of the caller must not leak into our commands.
for _v in $(compgen -e | grep '^PG' || true); do unset "$_v"; done

PGBIN=/usr/lib/postgresql/15/bin
KAFKA_VERSIONS=${AMTAGVI_KAFKA_VERSION:-3.9.1 3.9.0}
KAFKA_HEAP=${AMTAGVI_KAFKA_HEAP:--Xmx512m -Xms256m}
KAFKA_TIMEOUT=${AMTAGVI_KAFKA_START_TIMEOUT:-90}
TOPIC_CMD=org.apache.kafka.tools.TopicCommand # kafka.admin.TopicCommand is gone in 3.9

LIBS=$STACK_DIR/kafka-libs
TLS_DIR=$STACK_DIR/tls         # test CA + server certificate (secure modes)
SECRETS=$STACK_DIR/secrets     # generated passwords, mode 600 (secure modes)
KDIR=$STACK_DIR/kafka
KDATA=$KDIR/data
KLOGS=$KDIR/logs
KPID=$KDIR/kafka.pid
RDIR=$STACK_DIR/registry
RPID=$RDIR/registry.pid
RLOG=$RDIR/registry.log
RSNAP=$RDIR/snapshot.json
REGISTRY_TIMEOUT=${AMTAGVI_REGISTRY_START_TIMEOUT:-30}

say() { printf '%s\n' "$*"; }
warn() { printf 'stack.sh: warning: %s\n' "$*" >&2; }
die() {
	printf 'stack.sh: error: %s\n' "$*" >&2
	exit 1
}
short() { # path relative to the repo when inside it (shorter messages)
	case $1 in "$REPO_DIR"/*) printf '%s' "${1#"$REPO_DIR"/}" ;; *) printf '%s' "$1" ;; esac
}
tail_file() { # FILE [N]: show the end of a log on stderr
	[[ -s $1 ]] || return 0
	printf -- '---- last lines of %s ----\n' "$1" >&2
	tail -n "${2:-40}" "$1" >&2
	printf -- '----\n' >&2
}

# A port comes from the environment, else from the last start, else the default.
port_of() { # NAME ENV_VALUE DEFAULT
	local p
	if [[ -n $2 ]]; then
		p=$2
	elif [[ -s $STACK_DIR/$1.port ]]; then
		p=$(<"$STACK_DIR/$1.port")
	else
		p=$3
	fi
	[[ $p =~ ^[0-9]+$ ]] && ((p > 0 && p < 65535)) || die "bad $1 port: '$p'"
	printf '%s' "$p"
}
# Below the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999), where a
# client connection's local port can take a listening port away. Unassigned by IANA, and not
# 29092, which many Kafka docker-compose setups publish.
PG_PORT=$(port_of pg "${AMTAGVI_PG_PORT:-}" 25432)
KAFKA_PORT=$(port_of kafka "${AMTAGVI_KAFKA_PORT:-}" 25092)
CTRL_PORT=$((KAFKA_PORT + 1))
REGISTRY_PORT=$(port_of registry "${AMTAGVI_REGISTRY_PORT:-}" 25081)
pg_url() {
	printf 'postgresql://amtagvi@127.0.0.1:%s/amtagvi' "$1"
	if pg_tls; then printf '?sslmode=verify-full&sslrootcert=%s' "$TLS_DIR/ca.crt"; fi
}

# Secure modes: the environment (0 or 1), else the mode of the last start (a file next to the
# port files), else plaintext.
mode_of() { # NAME ENV_VALUE SECURE_WORD: succeeds when the mode is secure
	case $2 in
	1) return 0 ;;
	0) return 1 ;;
	'') [[ -s $STACK_DIR/$1.mode && $(<"$STACK_DIR/$1.mode") == "$3" ]] ;;
	*) die "$1 mode: expected 0 or 1, got '$2'" ;;
	esac
}
pg_tls() { mode_of pg "${AMTAGVI_PG_TLS:-}" tls; }
kafka_sasl() { mode_of kafka "${AMTAGVI_KAFKA_SASL_SSL:-}" sasl_ssl; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

warn_ephemeral() { # NAME PORT: a listening port the kernel may hand to an outgoing connection
	local lo hi
	read -r lo hi 2>/dev/null </proc/sys/net/ipv4/ip_local_port_range || return 0
	if (($2 >= lo && $2 <= hi)); then
		warn "$1 port $2 is in the ephemeral range $lo-$hi: an outgoing connection can hold it (\"Address already in use\"); pick one below $lo"
	fi
}

take_lock() {
	mkdir -p "$STACK_DIR"
	# fd 9 must be closed (9>&-) for the daemons we spawn, or they would hold the lock
	exec 9>>"$STACK_DIR/.lock"
	if ! flock -n 9; then
		say "(waiting for another ops/stack.sh on $(short "$STACK_DIR"))" >&2
		flock -w 300 9 || die "another ops/stack.sh is still busy with $STACK_DIR"
	fi
}

hash_of() { printf '%s' "$1" | sha1sum | cut -c1-12; }

# ---------------------------------------------------------------- secure modes

# secret NAME: the path of a generated password (made once per stack dir, mode 600). Never
# printed by this script: commands read it from the file (or get it on stdin).
secret() {
	local f=$SECRETS/$1.password
	if [[ ! -s $f ]]; then
		(umask 077 && mkdir -p "$SECRETS" && openssl rand -hex 24 >"$f.tmp.$$" && mv "$f.tmp.$$" "$f") ||
			die "could not write $f"
	fi
	printf '%s' "$f"
}

# A test CA and one server certificate for localhost / 127.0.0.1 / ::1, made once per stack
# dir and shared by PostgreSQL and Kafka: tls/ca.crt is what clients verify against.
tls_make() {
	[[ -s $TLS_DIR/ca.crt && -s $TLS_DIR/server.crt && -s $TLS_DIR/server-keystore.pem ]] &&
		return 0
	command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
	local tmp=$TLS_DIR.tmp.$$ log=$STACK_DIR/tls.log
	rm -rf "$tmp"
	mkdir -p "$tmp"
	chmod 755 "$tmp"
	if ! (
		cd "$tmp" && umask 077 &&
			openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
				-keyout ca.key -out ca.crt -subj "/CN=amtagvi test CA $(hash_of "$STACK_DIR")" \
				-addext basicConstraints=critical,CA:TRUE \
				-addext keyUsage=critical,keyCertSign,cRLSign &&
			openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout server.key \
				-out server.csr -subj /CN=localhost &&
			printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
				'keyUsage=critical,digitalSignature,keyEncipherment' \
				'extendedKeyUsage=serverAuth' \
				'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' >server.ext &&
			openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -sha256 -days 825 \
				-set_serial "0x$(openssl rand -hex 12)" -extfile server.ext -out server.crt &&
			cat server.key server.crt ca.crt >server-keystore.pem && # Kafka's PEM keystore
			rm -f server.csr server.ext && chmod 644 ca.crt server.crt
	) >"$log" 2>&1; then
		tail_file "$log"
		rm -rf "$tmp"
		die "could not make the test certificates"
	fi
	rm -rf "$TLS_DIR"
	mv "$tmp" "$TLS_DIR"
	say "tls: test CA and server certificate (localhost, 127.0.0.1) in $(short "$TLS_DIR")"
}

# ---------------------------------------------------------------- install

apt_install() { # PKG...
	local sudo=() log=$STACK_DIR/apt.log
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "need root to apt-get install $*"
		sudo=(sudo)
	fi
	mkdir -p /usr/share/man/man1 2>/dev/null || true # openjdk postinst on slim images
	if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1 ||
		! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "$@" >>"$log" 2>&1; then
		tail_file "$log"
		die "apt-get install $* failed"
	fi
	say "install: apt-get installed $*"
}

kafka_libs_version() { # prints the installed version, fails when the jars are missing
	[[ -s $LIBS/.version ]] || return 1
	local v
	v=$(<"$LIBS/.version")
	[[ -f $LIBS/kafka_2.13-$v.jar && -f $LIBS/kafka-tools-$v.jar ]] || return 1
	printf '%s' "$v"
}

install_kafka_libs() {
	local have v tmp log=$STACK_DIR/install-kafka.log ok=
	if have=$(kafka_libs_version) && [[ " $KAFKA_VERSIONS " == *" $have "* ]]; then
		say "install: kafka $have jars already in $(short "$LIBS")"
		return 0
	fi
	tmp=$STACK_DIR/kafka-libs.tmp.$$
	: >"$log"
	for v in $KAFKA_VERSIONS; do
		rm -rf "$tmp"
		mkdir -p "$tmp"
		if (cd "$SCRIPT_DIR/kafka" && mvn -q -B -Dstyle.color=never -f pom.xml \
			-Dkafka.version="$v" dependency:copy-dependencies \
			-DoutputDirectory="$tmp") >>"$log" 2>&1; then
			ok=$v
			break
		fi
		printf '(kafka %s not fetched)\n' "$v" >>"$log"
	done
	if [[ -z $ok ]]; then
		rm -rf "$tmp"
		tail_file "$log"
		die "could not fetch Kafka ($KAFKA_VERSIONS) from Maven Central"
	fi
	printf '%s\n' "$ok" >"$tmp/.version"
	rm -rf "$LIBS"
	mv "$tmp" "$LIBS"
	say "install: kafka $ok jars fetched into $(short "$LIBS") ($(du -sh "$LIBS" | cut -f1))"
}

cmd_install() {
	local pkgs=()
	[[ -x $PGBIN/initdb && -x $PGBIN/psql ]] || pkgs+=(postgresql-15)
	command -v java >/dev/null || pkgs+=(default-jre-headless)
	command -v mvn >/dev/null || pkgs+=(maven)
	((${#pkgs[@]} == 0)) || apt_install "${pkgs[@]}"
	install_kafka_libs
}

# ---------------------------------------------------------------- postgres

# Where the cluster lives: $STACK_DIR/pg, or /tmp/amtagvi-pg-<hash of stack dir> when
# the postgres user cannot reach the stack dir (e.g. a repo under /root). Derived from
# the stack dir path only, so a copied stack dir never points at another one's cluster.
pg_paths() {
	PGROOT=$STACK_DIR/pg
	if [[ ! -d $PGROOT && -d /tmp/amtagvi-pg-$(hash_of "$STACK_DIR") ]]; then
		PGROOT=/tmp/amtagvi-pg-$(hash_of "$STACK_DIR")
	fi
	PG_DATA=$PGROOT/data
	PG_LOG=$PGROOT/postgres.log
	PG_SOCK=$PGROOT/run
	# unix socket paths are limited to 107 bytes
	if ((${#PG_SOCK} + 20 > 100)); then PG_SOCK=/tmp/amtagvi-pgsock-$(hash_of "$STACK_DIR"); fi
}

as_pg() { # run a PostgreSQL server tool as the postgres user (they refuse root)
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

own_pg_dir() { # DIR: create, owned by the user running the server
	mkdir -p "$1"
	if ((EUID == 0)); then chown postgres:postgres "$1"; fi
	chmod 700 "$1"
}

pg_choose_root() {
	pg_paths
	[[ -d $PGROOT ]] && return 0
	own_pg_dir "$PGROOT"
	if ((EUID == 0)) && ! as_pg test -w "$PGROOT" -a -x "$PGROOT"; then
		rmdir "$PGROOT" 2>/dev/null || true
		own_pg_dir "/tmp/amtagvi-pg-$(hash_of "$STACK_DIR")"
	fi
	pg_paths
}

# pid of the postmaster serving OUR data dir. A postmaster.pid naming a live process
# whose cwd is another data dir (stack dir copied with cp -r) does not count.
pg_pid() {
	local p cwd
	[[ -s $PG_DATA/postmaster.pid ]] || return 1
	read -r p <"$PG_DATA/postmaster.pid" || return 1
	[[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null || return 1
	if cwd=$(readlink "/proc/$p/cwd" 2>/dev/null); then
		[[ $cwd == "$(cd "$PG_DATA" && pwd -P)" ]] || return 1
	fi
	printf '%s' "$p"
}
pg_running() { pg_pid >/dev/null; }

# Over TCP as postgres (trust), or in TLS mode over the unix socket: TCP then takes only TLS +
# SCRAM, and the socket's directory (mode 700) admits only the server's user and root.
PG_ADMIN_HOST=127.0.0.1
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_ADMIN_HOST" -p "$PG_PORT" -U postgres -d postgres "$@"; }

# TLS mode: the server's certificate and key inside the data dir (PostgreSQL wants the key
# owned by the server's user, mode 600), and an hba file without a plain TCP line.
pg_tls_files() {
	install -m 644 "$TLS_DIR/server.crt" "$PG_DATA/server.crt"
	install -m 600 "$TLS_DIR/server.key" "$PG_DATA/server.key"
	cat >"$PG_DATA/pg_hba_tls.conf" <<'EOF'
# written by ops/stack.sh start-pg (AMTAGVI_PG_TLS=1): TCP only over TLS, SCRAM passwords.
# TYPE  DATABASE USER     ADDRESS        METHOD
local   all      postgres                trust
hostssl all      all      127.0.0.1/32   scram-sha-256
hostssl all      all      ::1/128        scram-sha-256
EOF
	((EUID != 0)) || chown postgres:postgres "$PG_DATA/server.crt" "$PG_DATA/server.key" \
		"$PG_DATA/pg_hba_tls.conf"
}

# TLS mode: the login role amtagvi with its SCRAM password (set on every start, so it follows
# the file), and a pgpass file for libpq clients (PGPASSFILE, see `env`).
pg_tls_role() {
	local pwf pw super
	pwf=$(secret pg-amtagvi)
	pw=$(<"$pwf")
	super=$(psql_admin -tAc "select rolsuper from pg_roles where rolname = 'amtagvi'")
	if [[ -z $super ]]; then
		psql_admin -c "create role amtagvi login createdb createrole"
	else
		psql_admin -c "alter role amtagvi login nosuperuser createdb createrole"
	fi
	# on stdin, not in argv (ps); encrypted as SCRAM by password_encryption
	printf "alter role amtagvi password '%s';\n" "$pw" | psql_admin
	(
		umask 077
		printf '%s:*:*:amtagvi:%s\n' 127.0.0.1 "$pw" localhost "$pw" >"$SECRETS/pgpass"
	)
}

cmd_start_pg() {
	[[ -x $PGBIN/initdb ]] || die "PostgreSQL 15 is not installed: run ops/stack.sh install"
	pg_choose_root
	if pg_running; then
		local p=$PG_PORT
		[[ -s $STACK_DIR/pg.port ]] && p=$(<"$STACK_DIR/pg.port")
		say "pg: already running on 127.0.0.1:$p -> $(pg_url "$p")"
		return 0
	fi
	rm -f "$PG_DATA/postmaster.pid" # not ours (see pg_pid): stale or copied
	# a stack dir copied by root (cp -r) is root-owned: give the cluster back to postgres
	if ((EUID == 0)) && [[ -e $PG_DATA && $(stat -c %U "$PG_DATA") != postgres ]]; then
		chown -R postgres:postgres "$PGROOT"
	fi
	if [[ ! -s $PG_DATA/PG_VERSION ]]; then
		own_pg_dir "$PG_DATA"
		if ! as_pg "$PGBIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
			--no-locale --no-instructions >"$PGROOT/initdb.log" 2>&1; then
			tail_file "$PGROOT/initdb.log"
			die "initdb failed"
		fi
		printf "\ninclude_if_exists = 'amtagvi.conf'\n" >>"$PG_DATA/postgresql.conf"
	fi
	own_pg_dir "$PG_SOCK"
	local tls=0
	if pg_tls; then
		tls=1
		tls_make
		pg_tls_files
		PG_ADMIN_HOST=$PG_SOCK
	fi
	# Rewritten on every start so port / fast / TLS mode follow the environment.
	{
		printf '# written by ops/stack.sh start-pg\n'
		printf "listen_addresses = '127.0.0.1'\n"
		printf 'port = %s\n' "$PG_PORT"
		printf "unix_socket_directories = '%s'\n" "${PG_SOCK//\'/\'\'}"
		if [[ ${AMTAGVI_PG_FAST:-0} == 1 ]]; then
			printf 'fsync = off\nsynchronous_commit = off\n'
		else
			printf 'fsync = on\nsynchronous_commit = on\n'
		fi
		# Sized like a small write-heavy server rather than PostgreSQL's 128 MB defaults: the
		# determinations table's indexes must stay in shared buffers, and checkpoints should
		# not come every minute under load (each one makes the next write of every index page
		# a full-page image in the WAL). Shared memory is only touched as it is used.
		printf 'shared_buffers = %s\n' "${AMTAGVI_PG_SHARED_BUFFERS:-1GB}"
		printf 'max_wal_size = 8GB\ncheckpoint_timeout = 15min\ncheckpoint_completion_target = 0.9\n'
		# Full-page images of the random index pages a store of tens of millions of rows
		# dirties after each checkpoint are most of its WAL; lz4 halved it at 50 M rows at no
		# measurable cost on an empty store (ops/bench-growth, docs/benchmarks.md).
		printf 'wal_compression = lz4\n'
		if ((tls)); then
			printf '# AMTAGVI_PG_TLS=1\n'
			printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
			printf "ssl_min_protocol_version = 'TLSv1.2'\n"
			printf "password_encryption = 'scram-sha-256'\n"
			printf "hba_file = '%s/pg_hba_tls.conf'\n" "${PG_DATA//\'/\'\'}"
		fi
	} >"$PG_DATA/amtagvi.conf"
	((EUID != 0)) || chown postgres:postgres "$PG_DATA/amtagvi.conf"
	if port_open "$PG_PORT"; then die "port 127.0.0.1:$PG_PORT is already in use (set AMTAGVI_PG_PORT)"; fi
	warn_ephemeral PostgreSQL "$PG_PORT"
	if ((EUID == 0)); then touch "$PG_LOG" && chown postgres:postgres "$PG_LOG"; fi
	if ! as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -s start \
		>"$STACK_DIR/pg_ctl.log" 2>&1 9>&-; then
		tail_file "$STACK_DIR/pg_ctl.log"
		tail_file "$PG_LOG"
		die "PostgreSQL did not start"
	fi
	local i
	for i in $(seq 1 60); do
		"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres && break
		((i < 60)) || {
			tail_file "$PG_LOG"
			die "PostgreSQL not ready on 127.0.0.1:$PG_PORT"
		}
		sleep 0.5
	done
	if ((tls)); then
		pg_tls_role
	else
		case $(psql_admin -tAc "select rolsuper from pg_roles where rolname = 'amtagvi'") in
		'') psql_admin -c "create role amtagvi login superuser" ;;
		f) psql_admin -c "alter role amtagvi superuser" ;; # back from TLS mode
		esac
	fi
	if [[ $(psql_admin -tAc "select 1 from pg_database where datname = 'amtagvi'") != 1 ]]; then
		psql_admin -c "create database amtagvi owner amtagvi"
	fi
	printf '%s\n' "$PG_PORT" >"$STACK_DIR/pg.port"
	if ((tls)); then echo tls; else echo plain; fi >"$STACK_DIR/pg.mode"
	local mode=""
	[[ ${AMTAGVI_PG_FAST:-0} == 1 ]] && mode=" (fast: fsync=off)"
	((tls)) && mode+=" (TLS, SCRAM; password in $(short "$SECRETS")/pg-amtagvi.password)"
	say "pg: started on 127.0.0.1:$PG_PORT$mode -> $(pg_url "$PG_PORT")"
}

cmd_stop_pg() {
	pg_paths
	if pg_running; then
		if ! as_pg "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop >"$STACK_DIR/pg_ctl.log" 2>&1; then
			tail_file "$STACK_DIR/pg_ctl.log"
			tail_file "$PG_LOG"
			die "PostgreSQL did not stop"
		fi
		say "pg: stopped"
	elif [[ -s $PG_DATA/PG_VERSION ]]; then
		say "pg: not running"
	else
		say "pg: not initialized"
	fi
	if [[ ${AMTAGVI_STACK_CLEAN:-0} == 1 ]]; then
		rm -rf "$PGROOT" "$STACK_DIR/pg.port" "$STACK_DIR/pg.mode"
		[[ $PG_SOCK == "$PGROOT"/* ]] || rm -rf "$PG_SOCK"
		say "pg: data deleted"
	fi
}

# ---------------------------------------------------------------- kafka

# short-lived JVM for the Kafka CLI tools: "${JAVA_TOOL[@]}" MAINCLASS ARGS...
JAVA_TOOL=(java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
	-Dlog4j.configuration="file:$KDIR/tools-log4j.properties" -cp "$LIBS/*")
java_tool() { "${JAVA_TOOL[@]}" "$@"; }

kafka_pid() { # prints the pid of our running broker
	local p
	[[ -s $KPID ]] || return 1
	p=$(<"$KPID")
	[[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null || return 1
	# must be kafka.Kafka with OUR server.properties (a copied stack dir has a foreign pid)
	tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qxF "$KDIR/server.properties" || return 1
	printf '%s' "$p"
}

# SASL_SSL mode: the template's listener lines are replaced. Clients, the script's tools and the
# broker itself (inter-broker, user admin) all use the one SASL_SSL listener: no third port to
# reserve, and nothing but the KRaft controller listens without TLS (PLAINTEXT on 127.0.0.1:
# KRaft controllers cannot authenticate with SCRAM, whose credentials live in the metadata
# they serve; clients cannot produce or consume there).
kafka_sasl_props() {
	local admin
	admin=$(<"$(secret kafka-admin)")
	cat <<EOF

# ---- AMTAGVI_KAFKA_SASL_SSL=1 (ops/stack.sh): TLS + SCRAM-SHA-512 on the client port
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CTRL_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
ssl.client.auth=none
ssl.enabled.protocols=TLSv1.3,TLSv1.2
EOF
}

kafka_sasl_tools_props() { # the admin client of the CLI tools
	local admin
	admin=$(<"$(secret kafka-admin)")
	cat <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
EOF
}

kafka_write_configs() {
	local tpl=$SCRIPT_DIR/kafka/server.properties.in props line
	[[ -f $tpl ]] || die "missing $tpl"
	props=$(<"$tpl")
	props=${props//@PORT@/$KAFKA_PORT}
	props=${props//@CTRL_PORT@/$CTRL_PORT}
	props=${props//@LOG_DIR@/$KDATA}
	if kafka_sasl; then
		tls_make
		props=$(while IFS= read -r line; do
			case $line in
			listeners=* | advertised.listeners=* | inter.broker.listener.name=* | \
				listener.security.protocol.map=*) ;;
			*) printf '%s\n' "$line" ;;
			esac
		done <<<"$props")
		props+=$(kafka_sasl_props)
	fi
	# mode 600: in SASL_SSL mode both hold the admin password
	(umask 077 && printf '%s\n' "$props" >"$KDIR/server.properties")
	cat >"$KDIR/log4j.properties" <<EOF
# written by ops/stack.sh (reload4j)
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KLOGS/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
	cat >"$KDIR/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
	(
		umask 077
		cat >"$KDIR/tools.properties" <<'EOF'
request.timeout.ms=10000
default.api.timeout.ms=15000
EOF
		if kafka_sasl; then kafka_sasl_tools_props >>"$KDIR/tools.properties"; fi
	)
}

# SASL_SSL mode: the SCRAM users, added when the storage is formatted (KRaft keeps them in the
# metadata log). The JVM reads the main class and its arguments from a file (java @FILE), so
# the passwords stay out of argv (ps).
kafka_format_scram_args() { # FILE CLUSTER_ID
	local admin user
	admin=$(<"$(secret kafka-admin)")
	user=$(<"$(secret kafka-amtagvi)")
	argq() { local v=${1//\\/\\\\}; printf '"%s"\n' "${v//\"/\\\"}"; } # one @file argument
	(
		umask 077
		{
			argq kafka.tools.StorageTool
			argq format
			argq -t
			argq "$2"
			argq -c
			argq "$KDIR/server.properties"
			argq --ignore-formatted
			argq --add-scram
			argq "SCRAM-SHA-512=[name=admin,password=$admin]"
			argq --add-scram
			argq "SCRAM-SHA-512=[name=amtagvi,password=$user]"
		} >"$1"
	)
}

kafka_need_libs() {
	kafka_libs_version >/dev/null || die "Kafka jars missing in $(short "$LIBS"): run ops/stack.sh install"
	command -v java >/dev/null || die "java missing: run ops/stack.sh install"
	[[ -f $KDIR/tools.properties ]] || {
		mkdir -p "$KDIR" "$KLOGS"
		kafka_write_configs
	}
}

kafka_kill() { # PID: SIGTERM, up to 30 s, then SIGKILL; prints how it ended
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || {
			printf 'stopped'
			return 0
		}
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null || true
	for i in $(seq 1 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	printf 'killed (no exit 30 s after SIGTERM)'
}

cmd_start_kafka() {
	local pid id p
	kafka_libs_version >/dev/null || die "Kafka jars missing in $(short "$LIBS"): run ops/stack.sh install"
	command -v java >/dev/null || die "java missing: run ops/stack.sh install"
	mkdir -p "$KDIR" "$KDATA" "$KLOGS"
	if pid=$(kafka_pid); then
		local p=$KAFKA_PORT
		[[ -s $STACK_DIR/kafka.port ]] && p=$(<"$STACK_DIR/kafka.port")
		say "kafka: already running (pid $pid) on 127.0.0.1:$p"
		return 0
	fi
	rm -f "$KPID"
	for p in "$KAFKA_PORT" "$CTRL_PORT"; do
		if port_open "$p"; then die "port 127.0.0.1:$p is already in use (set AMTAGVI_KAFKA_PORT)"; fi
		warn_ephemeral Kafka "$p"
	done
	local sasl=0
	if kafka_sasl; then
		sasl=1
		if [[ -s $KDATA/meta.properties && ! -e $KDIR/scram-users ]]; then
			die "the broker's storage in $(short "$KDATA") was formatted without SCRAM users (plaintext mode): run AMTAGVI_STACK_CLEAN=1 ops/stack.sh stop-kafka first"
		fi
	fi
	kafka_write_configs
	if [[ ! -s $KDIR/cluster.id ]]; then
		id=$(java_tool kafka.tools.StorageTool random-uuid 2>"$KLOGS/format.log") ||
			{
				tail_file "$KLOGS/format.log"
				die "StorageTool random-uuid failed"
			}
		printf '%s\n' "$id" >"$KDIR/cluster.id"
	fi
	id=$(<"$KDIR/cluster.id")
	local format=(kafka.tools.StorageTool format -t "$id" -c "$KDIR/server.properties"
		--ignore-formatted)
	if ((sasl)); then
		kafka_format_scram_args "$KDIR/format.args" "$id"
		format=("@$KDIR/format.args")
	fi
	if [[ ! -s $KDATA/meta.properties ]]; then
		java_tool "${format[@]}" >"$KLOGS/format.log" 2>&1 ||
			{
				rm -f "$KDIR/format.args"
				tail_file "$KLOGS/format.log"
				die "StorageTool format failed"
			}
		((sasl == 0)) || : >"$KDIR/scram-users"
	fi
	rm -f "$KDIR/format.args"
	# setsid: the broker outlives the calling shell / terminal; stop it with stop-kafka.
	# shellcheck disable=SC2086 # KAFKA_HEAP is a list of flags
	(
		cd "$KDIR"
		exec setsid java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
			-XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
			-Djava.awt.headless=true -Dkafka.logs.dir="$KLOGS" \
			-Dlog4j.configuration="file:$KDIR/log4j.properties" \
			-cp "$LIBS/*" kafka.Kafka "$KDIR/server.properties"
	) </dev/null >"$KLOGS/kafka.out" 2>&1 9>&- &
	pid=$!
	printf '%s\n' "$pid" >"$KPID"
	local t0=$SECONDS why=""
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			why="the broker exited"
			break
		fi
		if port_open "$KAFKA_PORT" &&
			timeout 30 "${JAVA_TOOL[@]}" "$TOPIC_CMD" --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
				--command-config "$KDIR/tools.properties" --list >/dev/null 2>"$KLOGS/ready-check.log"; then
			break
		fi
		if ((SECONDS - t0 >= KAFKA_TIMEOUT)); then
			why="the broker was not ready after ${KAFKA_TIMEOUT}s"
			break
		fi
		sleep 1
	done
	if [[ -n $why ]]; then
		kill -0 "$pid" 2>/dev/null && kafka_kill "$pid" >/dev/null
		rm -f "$KPID"
		tail_file "$KLOGS/server.log" 40
		tail_file "$KLOGS/kafka.out" 20
		tail_file "$KLOGS/ready-check.log" 10
		die "Kafka did not start: $why"
	fi
	printf '%s\n' "$KAFKA_PORT" >"$STACK_DIR/kafka.port"
	if ((sasl)); then echo sasl_ssl; else echo plain; fi >"$STACK_DIR/kafka.mode"
	local mode=""
	((sasl == 0)) || mode=" (SASL_SSL, SCRAM-SHA-512; user amtagvi, password in $(short "$SECRETS")/kafka-amtagvi.password)"
	say "kafka: started $(kafka_libs_version) (pid $pid) on 127.0.0.1:$KAFKA_PORT$mode in $((SECONDS - t0))s"
}

cmd_stop_kafka() {
	local pid
	if pid=$(kafka_pid); then
		say "kafka: $(kafka_kill "$pid") (pid $pid)"
	else
		say "kafka: not running"
	fi
	rm -f "$KPID"
	if [[ ${AMTAGVI_STACK_CLEAN:-0} == 1 ]]; then
		rm -rf "$KDIR" "$STACK_DIR/kafka.port" "$STACK_DIR/kafka.mode"
		say "kafka: data deleted"
	fi
}

cmd_topics() {
	kafka_need_libs
	java_tool "$TOPIC_CMD" --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
		--command-config "$KDIR/tools.properties" "$@"
}

cmd_create_topic() {
	(($# == 2)) || die "usage: ops/stack.sh create-topic NAME PARTITIONS"
	local name=$1 parts=$2 out
	[[ $name =~ ^[A-Za-z0-9._-]{1,249}$ ]] || die "bad topic name '$name'"
	[[ $parts =~ ^[1-9][0-9]*$ ]] || die "bad partition count '$parts'"
	if ! out=$(cmd_topics --create --if-not-exists --topic "$name" --partitions "$parts" \
		--replication-factor 1 2>&1); then
		printf '%s\n' "$out" >&2
		die "could not create topic $name"
	fi
	if [[ $out == *"Created topic"* ]]; then
		say "kafka: topic $name created ($parts partitions)"
	else
		# already there: check the partition count from the broker's own log dirs
		local n=0 d
		for d in "$KDATA/$name"-*; do
			[[ -d $d && ${d##*/} =~ ^${name//./\\.}-[0-9]+$ ]] && n=$((n + 1))
		done
		if ((n != 0 && n != parts)); then
			warn "topic $name already exists with $n partitions (asked for $parts)"
		fi
		say "kafka: topic $name already exists"
	fi
}

# ---------------------------------------------------------------- schema registry

# rivven-schema (crates.io), built by ops/install-deps into a cache shared by every checkout.
registry_bin() {
	local b
	if [[ -n ${AMTAGVI_RIVVEN_SCHEMA:-} ]]; then
		[[ -x $AMTAGVI_RIVVEN_SCHEMA ]] || return 1
		printf '%s' "$AMTAGVI_RIVVEN_SCHEMA"
		return 0
	fi
	b=${AMTAGVI_CACHE:-$HOME/.cache/amtagvi}/rivven-schema/bin/rivven-schema
	if [[ -x $b ]]; then
		printf '%s' "$b"
	else
		command -v rivven-schema
	fi
}

registry_url() { printf 'http://127.0.0.1:%s' "$1"; }

registry_pid() { # prints the pid of our running registry
	local p
	[[ -s $RPID && -s $RDIR/port ]] || return 1
	p=$(<"$RPID")
	[[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null || return 1
	# must be rivven-schema serve on OUR port (a copied stack dir has a foreign pid)
	[[ " $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" == *" serve "*" --port $(<"$RDIR/port") "* ]] ||
		return 1
	printf '%s' "$p"
}

registry_port_now() { # the port of the running registry (else the configured one)
	if registry_pid >/dev/null; then cat "$RDIR/port"; else printf '%s' "$REGISTRY_PORT"; fi
}

# save|restore URL FILE: the registry's subject versions <-> a JSON file (python3, stdlib only).
registry_snapshot() {
	python3 - "$@" <<'EOF'
import json, os, sys, urllib.parse, urllib.request
mode, base, path = sys.argv[1:4]
CT = "application/vnd.schemaregistry.v1+json"
def call(method, p, body=None):
    req = urllib.request.Request(base + p, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": CT, "Accept": CT})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)
q = lambda s: urllib.parse.quote(s, safe="")
if mode == "save":
    entries = []
    for subject in call("GET", "/subjects"):
        for v in call("GET", "/subjects/%s/versions" % q(subject)):
            sv = call("GET", "/subjects/%s/versions/%s" % (q(subject), v))
            entries.append({"id": sv["id"], "subject": subject, "version": v,
                            "schema": sv["schema"],
                            "schemaType": sv.get("schemaType") or "AVRO"})
    level = call("GET", "/config").get("compatibilityLevel", "BACKWARD")
    entries.sort(key=lambda e: (e["id"], e["subject"], e["version"]))
    with open(path + ".tmp", "w") as f:
        json.dump({"compatibility": level, "entries": entries}, f)
    os.replace(path + ".tmp", path)
    print("%d subject versions (%d ids)" % (len(entries), len({e["id"] for e in entries})))
else:
    snap = json.load(open(path))
    call("PUT", "/config", {"compatibility": "NONE"})
    moved = []
    for e in snap["entries"]:
        body = {"schema": e["schema"]}
        if e["schemaType"] != "AVRO":
            body["schemaType"] = e["schemaType"]
        got = call("POST", "/subjects/%s/versions" % q(e["subject"]), body)["id"]
        if got != e["id"]:
            moved.append("%s: id %d is now %d" % (e["subject"], e["id"], got))
    call("PUT", "/config", {"compatibility": snap["compatibility"]})
    print("%d subject versions registered again, compatibility %s"
          % (len(snap["entries"]), snap["compatibility"]))
    if moved:
        print("ids changed: " + "; ".join(moved), file=sys.stderr)
        sys.exit(4)
EOF
}

registry_ready() { # PORT
	curl -fsS --max-time 2 -o /dev/null "$(registry_url "$1")/" 2>/dev/null
}

cmd_start_registry() {
	local bin pid t0=$SECONDS p out restored=
	mkdir -p "$RDIR"
	if pid=$(registry_pid); then
		say "registry: already running (pid $pid) on $(registry_url "$(<"$RDIR/port")")"
		return 0
	fi
	bin=$(registry_bin) ||
		die "rivven-schema is not installed: run ops/install-deps (it builds it into \${AMTAGVI_CACHE:-\$HOME/.cache/amtagvi}/rivven-schema)"
	command -v curl >/dev/null || die "curl is missing (ops/install-deps)"
	rm -f "$RPID"
	p=$REGISTRY_PORT
	if port_open "$p"; then die "port 127.0.0.1:$p is already in use (set AMTAGVI_REGISTRY_PORT)"; fi
	warn_ephemeral "Schema Registry" "$p"
	printf '%s\n' "$p" >"$RDIR/port"
	# setsid: the registry outlives the calling shell; stop it with stop-registry.
	(
		cd "$RDIR"
		exec setsid "$bin" --log-level warn serve --host 127.0.0.1 --port "$p"
	) </dev/null >>"$RLOG" 2>&1 9>&- &
	pid=$!
	printf '%s\n' "$pid" >"$RPID"
	while ! registry_ready "$p"; do
		if ! kill -0 "$pid" 2>/dev/null || ((SECONDS - t0 >= REGISTRY_TIMEOUT)); then
			kill -KILL "$pid" 2>/dev/null || true
			rm -f "$RPID"
			tail_file "$RLOG" 20
			die "the Schema Registry did not start on 127.0.0.1:$p"
		fi
		sleep 0.1
	done
	if [[ -s $RSNAP ]]; then
		if ! out=$(registry_snapshot restore "$(registry_url "$p")" "$RSNAP" 2>&1); then
			printf '%s\n' "$out" >&2
			die "registry: restoring $(short "$RSNAP") failed (ids would differ from before the stop)"
		fi
		restored=" ($out from $(short "$RSNAP"))"
	fi
	if [[ -n ${AMTAGVI_REGISTRY_COMPATIBILITY:-} ]]; then # `serve --compatibility` is ignored
		curl -fsS --max-time 5 -o /dev/null -X PUT -H 'Content-Type: application/json' \
			--data "{\"compatibility\": \"$AMTAGVI_REGISTRY_COMPATIBILITY\"}" "$(registry_url "$p")/config" ||
			die "registry: could not set the compatibility level $AMTAGVI_REGISTRY_COMPATIBILITY"
		restored+=" (compatibility $AMTAGVI_REGISTRY_COMPATIBILITY)"
	fi
	printf '%s\n' "$p" >"$STACK_DIR/registry.port"
	say "registry: started rivven-schema (pid $pid) on $(registry_url "$p") in $((SECONDS - t0))s$restored"
}

cmd_stop_registry() {
	local pid out i
	if pid=$(registry_pid); then
		# it keeps schemas in memory only: save them for the next start
		if out=$(registry_snapshot save "$(registry_url "$(<"$RDIR/port")")" "$RSNAP" 2>&1); then
			say "registry: saved $out to $(short "$RSNAP")"
		else
			printf '%s\n' "$out" >&2
			warn "registry: could not save its schemas; the next start begins empty"
		fi
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			say "registry: killed (no exit 5 s after SIGTERM) (pid $pid)"
		else
			say "registry: stopped (pid $pid)"
		fi
	else
		say "registry: not running"
	fi
	rm -f "$RPID"
	if [[ ${AMTAGVI_STACK_CLEAN:-0} == 1 ]]; then
		rm -rf "$RDIR" "$STACK_DIR/registry.port"
		say "registry: data deleted"
	fi
}

registry_wanted() { # `start` starts the registry when it is installed and not turned off
	[[ ${AMTAGVI_REGISTRY:-1} != 0 ]] || return 1
	registry_bin >/dev/null && return 0
	warn "registry: rivven-schema is not installed (ops/install-deps builds it): not started"
	return 1
}

cmd_registry() { # start|stop|restart|status|url
	local pid
	case ${1:-status} in
	start)
		take_lock
		cmd_start_registry
		;;
	stop)
		take_lock
		cmd_stop_registry
		;;
	restart)
		take_lock
		cmd_stop_registry
		cmd_start_registry
		;;
	url) printf '%s\n' "$(registry_url "$(registry_port_now)")" ;;
	status)
		if pid=$(registry_pid); then
			say "registry: running (pid $pid) on $(registry_url "$(<"$RDIR/port")")"
		else
			say "registry: not running"
			return 3
		fi
		;;
	*) die "usage: ops/stack.sh registry start|stop|restart|status|url" ;;
	esac
}

# ---------------------------------------------------------------- stack

cmd_status() {
	local rc=0 pid p v
	pg_paths
	if pg_running; then
		p=$PG_PORT
		[[ -s $STACK_DIR/pg.port ]] && p=$(<"$STACK_DIR/pg.port")
		say "pg: running on 127.0.0.1:$p -> $(pg_url "$p") (data $(short "$PG_DATA"))$(pg_tls && printf ' (TLS, SCRAM)')"
	elif [[ -s $PG_DATA/PG_VERSION ]]; then
		say "pg: stopped (data $(short "$PG_DATA"))"
		rc=3
	else
		say "pg: not initialized"
		rc=3
	fi
	if pid=$(kafka_pid); then
		p=$KAFKA_PORT
		[[ -s $STACK_DIR/kafka.port ]] && p=$(<"$STACK_DIR/kafka.port")
		say "kafka: running $(kafka_libs_version || true) (pid $pid) on 127.0.0.1:$p (logs $(short "$KLOGS"))$(kafka_sasl && printf ' (SASL_SSL, SCRAM-SHA-512)')"
	elif v=$(kafka_libs_version); then
		say "kafka: stopped ($v installed)"
		rc=3
	else
		say "kafka: not installed"
		rc=3
	fi
	if pid=$(registry_pid); then
		say "registry: running (pid $pid) on $(registry_url "$(<"$RDIR/port")") (log $(short "$RLOG"))"
	elif registry_bin >/dev/null; then
		say "registry: stopped"
		rc=3
	else
		say "registry: not installed (ops/install-deps)"
	fi
	return $rc
}

# Secure modes: what a client needs, never a password itself (the files that hold them).
cmd_env() {
	printf 'export AMTAGVI_PG_URL=%q\n' "$(pg_url "$PG_PORT")"
	if pg_tls; then
		printf 'export AMTAGVI_PG_CA=%q\n' "$TLS_DIR/ca.crt"
		printf 'export PGSSLROOTCERT=%q\n' "$TLS_DIR/ca.crt"
		printf 'export AMTAGVI_PG_PASSWORD_FILE=%q\n' "$SECRETS/pg-amtagvi.password"
		printf 'export PGPASSFILE=%q\n' "$SECRETS/pgpass"
		printf '# worker: database.url = $AMTAGVI_PG_URL, the password in PGPASSWORD or PGPASSFILE\n'
	fi
	printf 'export AMTAGVI_KAFKA_BROKERS=127.0.0.1:%s\n' "$KAFKA_PORT"
	printf 'export AMTAGVI_REGISTRY_URL=%q\n' "$(registry_url "$(registry_port_now)")"
	printf '# worker: schema.registry.url = $AMTAGVI_REGISTRY_URL\n'
	if kafka_sasl; then
		printf 'export AMTAGVI_KAFKA_CA=%q\n' "$TLS_DIR/ca.crt"
		printf 'export AMTAGVI_KAFKA_USER=amtagvi\n'
		printf 'export AMTAGVI_KAFKA_PASSWORD_FILE=%q\n' "$SECRETS/kafka-amtagvi.password"
		printf '# worker: kafka.security.protocol = SASL_SSL, kafka.sasl.mechanisms = SCRAM-SHA-512,\n'
		printf '#   kafka.sasl.username = amtagvi, kafka.ssl.ca.location = $AMTAGVI_KAFKA_CA,\n'
		printf '#   AMTAGVI_KAFKA_SASL_PASSWORD=$(cat "$AMTAGVI_KAFKA_PASSWORD_FILE") in its environment\n'
	fi
}

cmd_clean() {
	AMTAGVI_STACK_CLEAN=1 cmd_stop_registry >/dev/null
	AMTAGVI_STACK_CLEAN=1 cmd_stop_kafka >/dev/null
	AMTAGVI_STACK_CLEAN=1 cmd_stop_pg >/dev/null
	rm -rf "$STACK_DIR"
	say "clean: removed $(short "$STACK_DIR")"
}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

main() {
	local cmd=${1:-help}
	(($# == 0)) || shift
	case $cmd in
	# (no `a && b` chains: errexit is off inside functions called from one)
	install | start-pg | stop-pg | start-kafka | stop-kafka | start | stop | clean | \
		start-registry | stop-registry | restart-registry)
		take_lock
		case $cmd in
		start)
			cmd_install
			cmd_start_pg
			cmd_start_kafka
			if registry_wanted; then cmd_start_registry; fi
			;;
		stop)
			cmd_stop_registry
			cmd_stop_kafka
			cmd_stop_pg
			;;
		restart-registry)
			cmd_stop_registry
			cmd_start_registry
			;;
		*) "cmd_${cmd//-/_}" ;;
		esac
		;;
	create-topic) cmd_create_topic "$@" ;;
	topics) cmd_topics "$@" ;;
	status) cmd_status ;;
	registry) cmd_registry "$@" ;;
	env) cmd_env ;;
	help | -h | --help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
