# shellcheck shell=bash
#
# tests/integration/lib/sks.sh - run a PRIVATE SKS OpenPGP keyserver (the
# real one from Debian: /usr/sbin/sks, package "sks") answering HKP on
# 127.0.0.1, for the keyserver lookup tests of postseal.  Source this file
# from a bash test script.
#
# The instance lives entirely below one directory DIR and never uses the
# system's /etc/sks, /var/lib/sks, /var/log/sks, /run/sks, /var/spool/sks or
# the sks service.  Debian's sks has those FHS paths compiled in and puts
# "-basedir" IN FRONT of every one of them (without -basedir it writes to
# the real /var/lib/sks!), so every sks command here is run as
#   sks <command> -basedir DIR
# and the layout below DIR mirrors the system one:
#
#   DIR/etc/sks/sksconf           configuration (sks_start; rewritten each start)
#   DIR/etc/sks/membership        empty: no gossip/recon peers
#   DIR/var/lib/sks/DB/           Berkeley DB key database ("sks build",
#                                 made once from the empty DIR/var/lib/sks/dump)
#   DIR/var/log/sks/db.log        log of "sks db"; build.log of "sks build"
#   DIR/var/run/sks/db_com_sock   command socket of "sks db" (unix socket)
#   DIR/var/spool/sks/            (mail sync spool, unused)
#   DIR/sks-db.pid                pid of "sks db"
#   DIR/sks-db.out                its stdout/stderr (fatal errors end up here)
#   DIR/port, DIR/recon_port      the ports in use
#   DIR/gnupg/                    private GNUPGHOME for gpg --show-keys etc.
#   DIR/tmp/                      scratch files of sks_add_key
# DIR may be at most 80 characters long (the unix socket path must fit in
# 108 bytes) and must not contain blanks, quotes or glob characters.
#
# Only "sks db" is run: it alone answers HKP (/pks/lookup, /pks/add) and
# needs no prefix tree.  "sks recon" (reconciliation with peers) is not
# started; its address and port are still set to 127.0.0.1 and a free port
# in sksconf, so nothing would listen elsewhere even if it were.
#
# Functions (all return 77 = automake "skip", with a one-line reason on
# stderr, when not running as root or when sks/curl (and, for sks_add_key,
# gpg) is missing):
#
#   sks_start DIR [PORT]     create DIR's layout and (first time) the empty
#                            key database, start "sks db", wait (bounded by
#                            SKS_START_TIMEOUT, default 30 s) until
#                            /pks/lookup?op=stats answers 200 on
#                            127.0.0.1:PORT.  Prints the HKP port.  Sets
#                            SKS_PORT and SKS_RECON_PORT when not run in a
#                            subshell; always writes DIR/port, DIR/recon_port.
#   sks_port DIR             print the HKP port of the (started) instance
#   sks_url DIR              print http://127.0.0.1:PORT
#   sks_add_key DIR FILE     upload the public key(s) in FILE (ASCII-armored,
#                            one POST per armored block, or binary: then it
#                            is armored byte-exactly first, one POST) with
#                            POST /pks/add (form field keytext), then
#                            wait (bounded by SKS_ADD_TIMEOUT, default 10 s)
#                            until op=get&options=mr&search=0x<FPR> returns
#                            every primary key of FILE with all its user IDs
#                            and subkeys.  Refuses secret keys.
#   sks_stop DIR             TERM the sks processes of this instance (pid
#                            file, plus any process running "sks ... -basedir
#                            DIR"), wait (bounded by SKS_STOP_TIMEOUT,
#                            default 10 s), then KILL what is left
#   sks_log_tail DIR [N]     last N (30) lines of the logs, to stderr
#
# Ports: sks_start DIR PORT uses PORT for HKP (fails at once when it is
# busy); otherwise the HKP port and the (unused) recon port are picked at
# random in 20000-59999 among ports without any TCP socket in
# /proc/net/tcp{,6}.  When sks cannot bind an auto-picked port (a race with
# another program), new ports are picked and sks is started again (up to 5
# times).  The instance listens on 127.0.0.1:PORT only (TCP; plus the unix
# socket above), no UDP, no other address.
#
# Typical use (after common.sh; works under "set -u"):
#   . "$LIB/sks.sh" || exit 99
#   SKS=$(mktemp -d /tmp/ps-sks.XXXX) || exit 99    # DIR: at most 80 chars
#   trap 'sks_stop "$SKS"; rm -rf "$SKS"' EXIT
#   SKS_PORT=$(sks_start "$SKS") ||
#       { rc=$?; [ "$rc" = 77 ] && skip "no sks here"; fail "sks did not start"; }
#   sks_add_key "$SKS" "$KEYS/alice.pub.asc" || fail "sks_add_key"
#   curl "$(sks_url "$SKS")/pks/lookup?op=get&options=mr&search=alice%40example.org"
#   # postseal: keyserver hkp://127.0.0.1:$SKS_PORT
#
# Behaviour of SKS 1.1.6 (Debian 12 package 1.1.6+git20210302.c3ba6d5a-4),
# verified by experiment (see also sks-selftest.sh):
#   * timings (10 runs): sks_start 0.07-0.15 s in all ("sks build" of the
#     empty database ~0.03 s, "sks db" answers op=stats ~0.05 s later);
#     sks_add_key ~0.07 s; sks_stop 0.03-0.1 s: "sks db" handles TERM
#     ("Shutting down database ... Database closed" in db.log) and exits 0.
#     A port conflict makes it exit 2 at once with "Could not listen on any
#     address." on stderr.  "sks db" needs the database: without "sks
#     build" it dies with Keydb.Unsafe.No_db.
#   * the instance runs as root with /etc/sks, /var/lib/sks, /var/log/sks,
#     /run and /var/spool all read-only (private mount namespace).
#   * after sks_stop the process can stay a zombie ("[sks] <defunct>") for
#     a moment: it was double-forked, so its parent is PID 1, which in some
#     containers reaps late.  Zombies count as gone here.
#   * replies are HTTP/1.0; "gpg --keyserver hkp://127.0.0.1:PORT
#     --recv-keys FPR" and "--search-keys alice@example.org" work.
#   * /pks/add is synchronous: the key can be fetched as soon as the POST
#     has answered (200, text/html "1 key(s) added successfully", also when
#     the key was there already).  Unparsable keytext gives HTTP 500
#     ("Error handling request"); SKS only accepts armored keytext and
#     reads only the FIRST armored block of it (several keys inside one
#     block are all taken).
#   * op=get&options=mr answers 200 with Content-Type
#     "application/pgp-keys; charset=UTF-8" and an armored
#     "-----BEGIN PGP PUBLIC KEY BLOCK-----" with ALL matching keys in ONE
#     block; no match is HTTP 404 with an HTML body ("No results found").
#     Without options=mr the key comes wrapped in an HTML page.
#   * search by e-mail is a case-insensitive WORD search, not an exact
#     address match: "alice@example.org" is split into the words alice,
#     example, org and every key whose user IDs contain ALL those words
#     matches (so "example.org" or "alice" alone return alice's key too,
#     and two keys for user2@example.org come back together).  exact=on is
#     ignored.  0x + 8/16/40 hex digits of the primary key or of a subkey
#     finds the key; 40 hex digits WITHOUT "0x" are not recognised (404).
#   * op=index&options=mr gives the machine-readable "info:1:N / pub: /
#     uid:" listing (text/plain).
#   * a binary key uploaded after byte-exact armoring comes back with the
#     identical bytes (SKS does not verify or strip signatures).
# ----------------------------------------------------------------------------

# shellcheck source=util.sh
. "$(dirname "${BASH_SOURCE[0]}")/util.sh"

SKS_SKS=${SKS_SKS:-/usr/sbin/sks}
SKS_CURL=${SKS_CURL:-curl}
SKS_GPG=${SKS_GPG:-gpg}

# ---------------------------------------------------------------- helpers

sks__err() { printf 'sks.sh: %s\n' "$*" >&2; }

# sks__check: 0 if usable, else 77 with a one-line reason on stderr.
sks__check() {
    lib__need_root 'private SKS keyserver instance' || return 77
    if [ ! -x "$SKS_SKS" ]; then
        printf 'SKIP: SKS keyserver is not installed (%s missing; apt-get install sks)\n' "$SKS_SKS" >&2
        return 77
    fi
    if ! command -v "$SKS_CURL" >/dev/null 2>&1; then
        printf 'SKIP: curl is not installed\n' >&2
        return 77
    fi
    return 0
}

# sks__dir DIR: validate + normalise DIR (absolute, no trailing slash).
# The unix socket DIR//var/run/sks/db_com_sock must fit in sun_path (108).
sks__dir() {
    local d
    d=$(lib__dir sks.sh "$1") || return 2
    if [ $(( ${#d} + 27 )) -gt 107 ]; then
        sks__err "DIR is too long for SKS's unix socket below it (max 80 chars): $d"
        return 2
    fi
    printf '%s\n' "$d"
}

# sks__exe: the resolved path of the sks binary
sks__exe() { readlink -f "$SKS_SKS"; }

# sks__is_ours PID DIR [EXE]: PID is alive and runs the sks binary (EXE =
# output of sks__exe) with "-basedir DIR" (guards against pid reuse and
# against other instances)
sks__is_ours() {
    local exe pid=$1 d=$2 want=${3:-} arg prev="" found=1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    exe=${exe% (deleted)}
    [ -n "$want" ] || want=$(sks__exe)
    [ "$exe" = "$want" ] || return 1
    lib__alive "$pid" || return 1
    while IFS= read -r -d '' arg; do
        if [ "$prev" = -basedir ] && [ "$arg" = "$d" ]; then found=0; fi
        prev=$arg
    done 2>/dev/null < "/proc/$pid/cmdline"
    return $found
}

# sks__db_pid DIR: pid of the running "sks db" of this instance, or fail
sks__db_pid() {
    local pid
    { read -r pid < "$1/sks-db.pid"; } 2>/dev/null || return 1
    pid=${pid//[!0-9]/}
    [ -n "$pid" ] || return 1
    sks__is_ours "$pid" "$1" || return 1
    printf '%s\n' "$pid"
}

# sks__instance_pids DIR: live sks processes of this instance: the one in
# the pid file and any other process running "sks ... -basedir DIR"
sks__instance_pids() {
    local pid exe cands
    exe=$(sks__exe)
    # candidates by process name (cheap), else every process
    if command -v pgrep >/dev/null 2>&1; then
        cands=$(pgrep -x "$(printf '%.15s' "${exe##*/}")" 2>/dev/null)
    else
        cands=$(cd /proc && printf '%s\n' [0-9]*)
    fi
    for pid in $cands; do
        sks__is_ours "$pid" "$1" "$exe" && printf '%s\n' "$pid"
    done
    return 0
}

# sks__port_busy PORT: true if any TCP socket (v4/v6, any state) uses PORT
sks__port_busy() { lib__port_busy "$1"; }

# sks__pick_port [EXCLUDE...]: a random port without any TCP socket
sks__pick_port() { lib__pick_port sks.sh "$@"; }

# sks__listening PORT: true if something listens on 127.0.0.1:PORT
sks__listening() { lib__listening "$1"; }

# sks__gpg DIR ARGS...: gpg with the instance's private GNUPGHOME
sks__gpg() {
    local d=$1
    shift
    mkdir -p "$d/gnupg" && chmod 0700 "$d/gnupg" || return 1
    "$SKS_GPG" --homedir "$d/gnupg" --batch --no-tty --no-autostart --quiet "$@"
}

sks_log_tail() {
    local d n=${2:-30} f
    d=$(sks__dir "$1") || return 2
    for f in "$d/var/log/sks/build.log" "$d/sks-db.out" "$d/var/log/sks/db.log"; do
        if [ -s "$f" ]; then
            printf -- '--- last %s lines of %s ---\n' "$n" "$f" >&2
            tail -n "$n" "$f" >&2
        else
            printf -- '--- %s is empty or missing ---\n' "$f" >&2
        fi
    done
}

# ---------------------------------------------------------------- sks_start

sks__write_config() {
    local d=$1 port=$2 recon=$3
    cat > "$d/etc/sks/sksconf" <<EOF || return 1
# Private SKS keyserver for the postseal tests (generated by sks.sh - do
# not edit).  Run as: $SKS_SKS db -basedir $d
# HKP and recon bind to 127.0.0.1 only; no peers (empty membership file),
# no gossip, no PKS mail sync, no statistics run at start.
hostname: sks.postseal.test
hkp_address: 127.0.0.1
hkp_port: $port
recon_address: 127.0.0.1
recon_port: $recon
dontgossip:
disable_mailsync:
membership_reload_interval: 10000
debuglevel: 4
EOF
    : > "$d/etc/sks/membership" || return 1
}

# sks__build DIR: create the empty key database once
sks__build() {
    local d=$1 out
    [ -d "$d/var/lib/sks/DB" ] && [ -e "$d/var/lib/sks/DB/key" ] && return 0
    rm -rf "$d/var/lib/sks/DB"
    # run from DIR: BDB and sks take relative paths from the cwd
    out=$(cd "$d" && timeout "${SKS_START_TIMEOUT:-30}" "$SKS_SKS" build -basedir "$d" 2>&1 </dev/null) || {
        sks__err "'$SKS_SKS build -basedir $d' failed"
        [ -n "$out" ] && printf '%s\n' "$out" >&2
        sks_log_tail "$d" 10
        return 1
    }
    [ -e "$d/var/lib/sks/DB/key" ] || { sks__err "sks build made no $d/var/lib/sks/DB/key"; return 1; }
}

sks_start() {
    sks__check || return $?
    local d port=${2:-} recon auto=1 try pid start deadline now code url
    d=$(sks__dir "$1") || return 2
    case $port in '' | [1-9]*) ;; *) sks__err "sks_start: bad PORT '$port'"; return 2 ;; esac
    [ -n "$port" ] && auto=0

    if sks__db_pid "$d" >/dev/null 2>&1 || [ -n "$(sks__instance_pids "$d")" ]; then
        sks__err "an instance is already running in $d"
        return 1
    fi
    mkdir -p "$d/etc/sks" "$d/var/lib/sks/dump" "$d/var/log/sks" "$d/var/run/sks" \
        "$d/var/spool/sks" "$d/tmp" || return 1
    rm -f "$d/var/run/sks/db_com_sock" "$d/sks-db.pid" "$d/port" "$d/recon_port"
    if [ -n "$port" ] && sks__port_busy "$port"; then
        sks__err "sks_start: port $port is already in use"
        return 1
    fi

    start=$(lib__now_ds)
    deadline=$(( start + ${SKS_START_TIMEOUT:-30} * 10 ))
    for try in 1 2 3 4 5; do
        [ $auto = 1 ] && { port=$(sks__pick_port) || return 1; }
        recon=$(sks__pick_port "$port") || return 1
        sks__write_config "$d" "$port" "$recon" ||
            { sks__err "cannot write configuration in $d/etc/sks"; return 1; }
        sks__build "$d" || return 1
        : > "$d/sks-db.out"
        # double fork: sks db is not a child of the caller (a bare "wait"
        # there must not block on it); it does not daemonise by itself
        (
            cd "$d" || exit 1
            # do not pass the caller's extra fds (test harness pipes) on
            for fd in "/proc/$BASHPID/fd/"*; do
                fd=${fd##*/}
                [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
            done
            "$SKS_SKS" db -basedir "$d" </dev/null >>"$d/sks-db.out" 2>&1 &
            echo $! > "$d/sks-db.pid"
        )
        pid=$(cat "$d/sks-db.pid" 2>/dev/null)
        [ -n "$pid" ] || { sks__err "could not start $SKS_SKS db"; return 1; }

        url="http://127.0.0.1:$port/pks/lookup?op=stats"
        while :; do
            if ! lib__alive "$pid"; then
                # bind race on an auto-picked port: try new ones
                if [ $auto = 1 ] && [ $try -lt 5 ] &&
                   grep -q 'Could not listen\|Failed to listen' "$d/sks-db.out" "$d/var/log/sks/db.log" 2>/dev/null; then
                    : > "$d/var/log/sks/db.log"
                    continue 2
                fi
                sks__err "'$SKS_SKS db -basedir $d' exited at start"
                sks_log_tail "$d" 10
                return 1
            fi
            if sks__listening "$port"; then
                code=$("$SKS_CURL" -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)
                [ "$code" = 200 ] && break 2
            fi
            now=$(lib__now_ds)
            if [ "$now" -ge "$deadline" ]; then
                sks__err "sks db in $d did not answer $url within ${SKS_START_TIMEOUT:-30}s (last HTTP code: ${code:-none})"
                sks_log_tail "$d" 10
                sks_stop "$d" >/dev/null 2>&1
                return 1
            fi
            sleep 0.05
        done
    done
    if ! sks__db_pid "$d" >/dev/null; then
        sks__err "sks db in $d is not running after start"
        sks_log_tail "$d" 10
        return 1
    fi
    echo "$port" > "$d/port"
    echo "$recon" > "$d/recon_port"
    # shellcheck disable=SC2034  # for the caller
    SKS_PORT=$port SKS_RECON_PORT=$recon
    printf '%s\n' "$port"
}

# sks_port DIR
sks_port() {
    local d
    d=$(sks__dir "$1") || return 2
    [ -s "$d/port" ] || { sks__err "no port in $d (sks_start not run?)"; return 1; }
    cat "$d/port"
}

# sks_url DIR
sks_url() {
    local p
    p=$(sks_port "$1") || return $?
    printf 'http://127.0.0.1:%s\n' "$p"
}

# ---------------------------------------------------------------- keys

# sks__keyinfo DIR FILE: one line per primary key, user ID and subkey
# ("pub:FPR", "uid:FPR:<uid>", "sub:FPR:SUBFPR"), sorted; as gpg sees it
sks__keyinfo() {
    sks__gpg "$1" --with-colons --fixed-list-mode --show-keys "$2" 2>/dev/null |
        awk -F: '
            $1 == "pub" { want = "pub"; next }
            $1 == "sub" { want = "sub"; next }
            $1 == "fpr" && want == "pub" { p = $10; print "pub:" p; want = ""; next }
            $1 == "fpr" && want == "sub" { print "sub:" p ":" $10; want = ""; next }
            $1 == "uid" { print "uid:" p ":" $10 }
            { want = "" }' | LC_ALL=C sort -u
}

# sks_add_key DIR FILE
sks_add_key() {
    sks__check || return $?
    local d file=$2 port tmp armored colons info fprs f code deadline now missing
    d=$(sks__dir "$1") || return 2
    command -v "$SKS_GPG" >/dev/null 2>&1 || { printf 'SKIP: gpg is not installed\n' >&2; return 77; }
    [ -r "$file" ] || { sks__err "sks_add_key: cannot read $file"; return 1; }
    port=$(sks_port "$d") || return 1
    sks__db_pid "$d" >/dev/null || { sks__err "sks_add_key: no sks db running in $d"; return 1; }
    mkdir -p "$d/tmp" || return 1
    tmp=$(mktemp "$d/tmp/add.XXXXXX") || return 1

    colons=$(sks__gpg "$d" --with-colons --show-keys "$file" 2>/dev/null)
    if grep -q -- '-----BEGIN PGP PRIVATE KEY BLOCK-----' "$file" 2>/dev/null ||
       printf '%s\n' "$colons" | grep -q '^sec:' ||
       ! printf '%s\n' "$colons" | grep -q '^pub:'; then
        sks__err "sks_add_key: $file is not an OpenPGP public key (or is a secret key)"
        rm -f "$tmp"
        return 1
    fi
    if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$file" 2>/dev/null; then
        # SKS reads only the FIRST armored block of a keytext: post each
        # block of FILE on its own
        awk -v t="$tmp" '
            /^-----BEGIN PGP PUBLIC KEY BLOCK-----/ { n++; out = sprintf("%s.b%03d.asc", t, n) }
            out != "" { sub(/\r$/, ""); print > out }
            /^-----END PGP PUBLIC KEY BLOCK-----/ { if (out != "") close(out); out = "" }' "$file" ||
            { rm -f "$tmp" "$tmp".*; return 1; }
    else
        # binary (any number of keys): armor the SAME bytes (gpg --enarmor
        # computes the CRC) and turn the "ARMORED FILE" into a public key
        # block, which is the only header SKS accepts
        sks__gpg "$d" --enarmor < "$file" |
            sed -e 's/^-----\(BEGIN\|END\) PGP ARMORED FILE-----$/-----\1 PGP PUBLIC KEY BLOCK-----/' \
                -e '/^Comment: /d' > "$tmp.b001.asc" || { rm -f "$tmp" "$tmp".*; return 1; }
    fi
    info=$(sks__keyinfo "$d" "$file")
    fprs=$(printf '%s\n' "$info" | sed -n 's/^pub://p')

    for armored in "$tmp".b*.asc; do
        code=$("$SKS_CURL" -s -o "$tmp" -w '%{http_code}' --max-time 20 \
            --data-urlencode "keytext@$armored" "http://127.0.0.1:$port/pks/add")
        if [ "$code" != 200 ]; then
            sks__err "sks_add_key: POST /pks/add of $file (block ${armored##*.b}) gave HTTP ${code:-none}:"
            sed -e 's/<[^>]*>//g' -e '/^[[:space:]]*$/d' "$tmp" | tail -n 3 >&2
            sks_log_tail "$d" 5
            rm -f "$tmp" "$tmp".*
            return 1
        fi
    done

    # wait until every primary key is served with all its uids and subkeys
    deadline=$(( $(lib__now_ds) + ${SKS_ADD_TIMEOUT:-10} * 10 ))
    while :; do
        missing=""
        for f in $fprs; do
            code=$("$SKS_CURL" -s -o "$tmp" -w '%{http_code}' --max-time 5 \
                "http://127.0.0.1:$port/pks/lookup?op=get&options=mr&search=0x$f")
            if [ "$code" != 200 ]; then missing="$missing $f"; continue; fi
            # all lines of the uploaded key about f must be in what is served
            if [ -n "$(LC_ALL=C comm -23 \
                    <(printf '%s\n' "$info" | awk -F: -v f="$f" '$2 == f' | LC_ALL=C sort -u) \
                    <(sks__keyinfo "$d" "$tmp"))" ]; then
                missing="$missing $f"
            fi
        done
        [ -z "$missing" ] && break
        now=$(lib__now_ds)
        if [ "$now" -ge "$deadline" ]; then
            sks__err "sks_add_key: key(s)$missing of $file not served within ${SKS_ADD_TIMEOUT:-10}s"
            sks_log_tail "$d" 10
            rm -f "$tmp" "$tmp".*
            return 1
        fi
        sleep 0.1
    done
    rm -f "$tmp" "$tmp".*
    return 0
}

# ---------------------------------------------------------------- sks_stop

sks_stop() {
    sks__check || return $?
    local d pids p deadline now left exe
    d=$(sks__dir "$1") || return 2
    exe=$(sks__exe)
    pids=$( { sks__db_pid "$d"; sks__instance_pids "$d"; } 2>/dev/null | sort -u)
    if [ -n "$pids" ]; then
        # TERM: sks syncs, checkpoints and closes the database, exits 0
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null
        deadline=$(( $(lib__now_ds) + ${SKS_STOP_TIMEOUT:-10} * 10 ))
        while :; do
            left=""
            for p in $pids; do
                sks__is_ours "$p" "$d" "$exe" && left="$left $p"
            done
            [ -z "$left" ] && break
            now=$(lib__now_ds)
            if [ "$now" -ge "$deadline" ]; then
                sks__err "sks processes of $d did not exit, killing:$left"
                # shellcheck disable=SC2086
                kill -KILL $left 2>/dev/null
                sleep 0.2
                for p in $left; do
                    if sks__is_ours "$p" "$d" "$exe"; then
                        sks__err "sks process $p of $d still running"
                        return 1
                    fi
                done
                break
            fi
            sleep 0.05
        done
    fi
    rm -f "$d/sks-db.pid" "$d/var/run/sks/db_com_sock"
    return 0
}
