# shellcheck shell=bash
#
# tests/integration/lib/smtp.sh - PRIVATE SMTP servers on 127.0.0.1 for the
# postseal tests (the MSA relay postseal submits to).  Source this file from
# a bash test script.  Three kinds of server, all below one directory DIR
# (one of each kind per DIR; they may run side by side in the same DIR):
#
#   smtpd.py (python3-aiosmtpd)   a configurable server that records every
#                                 accepted message: STARTTLS with a CA-signed
#                                 or a self-signed certificate (or none),
#                                 implicit TLS (RFC 8314) on a second port,
#                                 REQUIRETLS (RFC 8689), AUTH PLAIN/LOGIN,
#                                 per-recipient reply rules
#   starttls_strip.py             a proxy in front of an SMTP server that
#                                 removes STARTTLS (downgrade attack)
#   smtp-sink (Postfix)           a dumb sink without STARTTLS
#
# Layout of DIR:
#   DIR/ca/ca.pem, ca.key         throwaway CA (sm_ca)
#   DIR/ca/good.pem, good.key     server cert signed by the CA for
#                                 SM_NAMES (smtp.example.test localhost) +
#                                 IP 127.0.0.1 (+ extra names given to sm_ca)
#   DIR/ca/bad.pem, bad.key       SELF-SIGNED cert with the same names
#   DIR/port, DIR/tls_port        ports of smtpd.py (tls_port only with
#                                 implicit TLS; removed by sm_start otherwise)
#   DIR/smtpd.pid, smtpd.out      pid, stdout+stderr of smtpd.py
#   DIR/smtpd.log                 every command, reply line and event:
#                                   "HH:MM:SS.mmm #ID C: EHLO x"
#                                   "HH:MM:SS.mmm #ID S: 250-smtp.example.test"
#                                   "HH:MM:SS.mmm #ID P: TLS established (...)"
#                                   "... #ID P: TLS handshake failed: ..."
#                                 (#ID numbers the connections; "-" for the
#                                 server itself; AUTH credentials never
#                                 appear).  The first session is sm_start's
#                                 probe (banner, QUIT, 221).  Events (P:):
#                                 "connect from IP:PORT to the plain|implicit
#                                 listener", "TLS established (TLSv1.3,
#                                 CIPHER) after STARTTLS|on connect", "TLS
#                                 handshake failed: REASON", "AUTH PLAIN
#                                 user=U ok|FAILED", "message data: N bytes",
#                                 "stored message N (tls=... auth_user=...
#                                 requiretls=...)", "closed"
#   DIR/auth                      "USER\nPASSWORD\n" (mode 600) when auth
#                                 is enabled
#   DIR/rules                     reply rules, one a line, read at every
#                                 MAIL/RCPT/DATA (change them at any time):
#                                   ADDRESS CODE TEXT   e.g.
#                                   bad@example.net 550 5.1.1 no such user
#                                   later@example.net 450 4.2.0 try later
#                                   *    CODE TEXT  any other recipient
#                                   MAIL CODE TEXT  every MAIL FROM
#                                   DATA CODE TEXT  end of DATA (not stored)
#                                 unlisted recipients are accepted; a 421
#                                 reply also closes the connection
#   DIR/mail/N.eml                accepted message N (1, 2, ...; numbers go
#                                 on after a restart in the same DIR): the DATA
#                                 bytes exactly as received (CRLF, bare LF,
#                                 8-bit kept) with the transparency dots of
#                                 RFC 5321 4.5.2 removed, without the final
#                                 ".\r\n"
#   DIR/mail/N.env                one line of JSON, written after N.eml:
#                                 {"auth_user": null|"USER", "esmtp": true,
#                                  "helo": "...", "listener": "plain"|
#                                  "implicit", "mail_from": "a@b",
#                                  "mail_options": ["SIZE=12", "REQUIRETLS"],
#                                  "n": N, "peer": "127.0.0.1:PORT",
#                                  "rcpt_options": [], "rcpt_tos": ["c@d"],
#                                  "requiretls": true|false, "size": BYTES,
#                                  "time": "...", "tls": true|false,
#                                  "tls_version": "TLSv1.3"|null}
#                                 tls = the session was TLS when DATA came
#   DIR/strip_port, strip.pid, strip.out, strip.log    the STRIPTLS proxy;
#                                 strip.log has the same line format (C:, S:,
#                                 P:) and per connection a closing line
#                                 "P: closed: mail=N rcpt=N data=N
#                                 messages=N starttls=N"
#   DIR/sink_port, sink.pid, sink.out, DIR/sink/   smtp-sink; sink/ holds
#                                 one file per message (smtp-sink -d)
#
# Functions (return 77 = automake "skip", with a one-line reason on stderr,
# when a tool is missing; root is NOT needed - when run as root smtp-sink
# gets "-u root", everything else runs as the caller):
#
#   sm_ca DIR [EXTRA_NAME...]  make the CA, the good and the bad cert; prints
#                              DIR/ca/ca.pem.  sm_start calls it when needed.
#   sm_start DIR [KEY=VALUE...]   start smtpd.py; prints the plain port,
#                              writes DIR/port (+ DIR/tls_port).  Options
#                              (a KEY=VALUE word wins over the SM_* env var):
#       tls=good|bad|none         SM_TLS (good): STARTTLS with the CA-signed
#                                 cert, with the self-signed one, or no
#                                 STARTTLS at all (then "STARTTLS" -> 454)
#       implicit=0|1|good|bad     SM_IMPLICIT (0): also listen with TLS from
#                                 the first byte on a second port; 1 = same
#                                 cert as tls= (good when tls=none)
#       requiretls=0|1|always     SM_REQUIRETLS (0): advertise REQUIRETLS in
#                                 EHLO; 1 = only in TLS sessions (after
#                                 STARTTLS or on the implicit port, as Exim
#                                 does), always = also in plaintext.  "MAIL
#                                 FROM:<a> REQUIRETLS" is accepted and
#                                 recorded where it is advertised, else 555.
#       auth=none|optional|required   SM_AUTH (none): AUTH PLAIN and LOGIN;
#                                 required = 530 5.7.0 for MAIL/RCPT/DATA
#                                 before AUTH
#       user=U password=P         SM_USER (alice), SM_PASSWORD (secret)
#       auth_plaintext=0|1        SM_AUTH_PLAINTEXT (0): offer AUTH before
#                                 STARTTLS too.  Without it AUTH is offered
#                                 (and accepted) only in TLS sessions, or in
#                                 plaintext when tls=none; else 538 5.7.11.
#       require_starttls=0|1      SM_REQUIRE_STARTTLS (0): 530 to everything
#                                 but EHLO/NOOP/STARTTLS/QUIT before STARTTLS
#       smtputf8=0|1              SM_SMTPUTF8 (1): advertise SMTPUTF8
#       size=BYTES                SM_SIZE (33554432): SIZE limit, 552 above
#       hostname=NAME             SM_HOSTNAME (smtp.example.test): greeting
#       port=N tls_port=N         fixed ports (default: random free ones)
#   sm_port DIR [plain|tls|strip|sink]   print a port written by the starters
#   sm_strip_start DIR UPSTREAM_PORT [PORT]   start the STARTTLS-stripping
#                              proxy to 127.0.0.1:UPSTREAM_PORT; prints its
#                              port, writes DIR/strip_port
#   sm_strip_count DIR WHAT    how often clients of the proxy sent WHAT:
#                              mail | rcpt | data (the commands) | message
#                              (message data actually passed in plaintext)
#                              | starttls | conn (connections)
#   sm_sink_start DIR [PORT]   start smtp-sink; prints its port, writes
#                              DIR/sink_port.  Runs "smtp-sink -c [-u root]
#                              -h sink.example.test -d DIR/sink/%Y%m%d%H%M%S.
#                              $SM_SINK_OPTS 127.0.0.1:PORT 100"; put extra
#                              options in SM_SINK_OPTS (e.g. "-a" = no AUTH,
#                              "-r RCPT" = 4xx to every RCPT)
#   sm_sink_count DIR          number of messages smtp-sink received (its
#                              "-c" counter "mesg=": a "." was received)
#   sm_sink_files DIR          the non-empty message files in DIR/sink/
#   sm_count DIR               number of messages smtpd.py accepted (N.env)
#   sm_wait_count DIR N [SECS] wait (default 10 s) until sm_count >= N
#   sm_env DIR N               print DIR/mail/N.env
#   sm_env_get DIR N KEY       print one value of N.env: strings as is,
#                              true/false, lists one item a line, null as ""
#   sm_rule DIR ADDRESS CODE TEXT...   append a reply rule to DIR/rules
#   sm_sessions DIR            client sessions smtpd.py saw (probe excluded)
#   sm_log_tail DIR [N]        last N (30) lines of every log, to stderr
#   sm_stop DIR                stop smtpd.py, the proxy and smtp-sink of DIR
#                              (TERM, bounded wait SM_STOP_TIMEOUT (10 s),
#                              then KILL); a no-op when none runs
#
# Ports: picked at random in 20000-59999 among ports without any TCP socket
# in /proc/net/tcp{,6}; if a server cannot bind an auto-picked port (a race)
# new ones are picked and it is started again (up to 5 times).  A busy port
# given by the caller fails at once.  Everything listens on 127.0.0.1 only.
# Readiness (bounded by SM_START_TIMEOUT, default 10 s): smtpd.py and
# smtp-sink: a "220" banner is read from the port (smtpd.py: then QUIT);
# implicit-TLS port and proxy: LISTEN on 127.0.0.1:PORT in /proc/net/tcp.
#
# Typical use (works under "set -u"):
#   . "$LIB/smtp.sh" || exit 99
#   S=$(mktemp -d /tmp/ps-smtp.XXXX) || exit 99
#   trap 'sm_stop "$S"; rm -rf "$S"' EXIT
#   PORT=$(sm_start "$S" tls=good auth=required requiretls=1) ||
#       { rc=$?; [ "$rc" = 77 ] && skip "no aiosmtpd"; fail "sm_start"; }
#   sm_rule "$S" bad@example.net 550 5.1.1 no such user
#   ... postseal with relay 127.0.0.1:$PORT, CA file $S/ca/ca.pem,
#       user alice, password secret ...
#   [ "$(sm_count "$S")" = 1 ] || fail "not delivered"
#   [ "$(sm_env_get "$S" 1 tls)" = true ] || fail "not sent over TLS"
#
# Verified by experiment (Debian 12: python3-aiosmtpd 1.4.3-1.1+deb12u1 with
# /usr/bin/python3 3.11; postfix 3.7.11 smtp-sink; swaks 20201014.0):
#   * /usr/bin/python3 is used (SM_PYTHON): a "python3" found first in PATH
#     (pyenv etc.) does not see Debian's dist-packages.
#   * aiosmtpd API used: SMTP(handler, tls_context=, require_starttls=,
#     auth_required=, auth_require_tls=False, authenticator=) with a
#     5-argument handle_EHLO(server, session, envelope, hostname, responses)
#     hook that returns the new EHLO lines (REQUIRETLS is added, AUTH
#     removed where not offered).  aiosmtpd answers "555 MAIL FROM
#     parameters not recognized" to any parameter it does not know, before
#     the MAIL hook runs, so smtpd.py's SMTP subclass takes REQUIRETLS out
#     of the MAIL arguments itself.  aiosmtpd's own auth_require_tls looks at
#     STARTTLS only and would refuse AUTH on the implicit-TLS port, so the
#     "AUTH only with TLS" rule is enforced by smtpd.py.  aiosmtpd does not
#     advertise PIPELINING, DSN or ENHANCEDSTATUSCODES (pipelined commands
#     work anyway); RCPT parameters (e.g. NOTIFY=) get 555; lines over 1000
#     octets in DATA get "500 Line too long".
#   * swaks 20201014 "--tls --tls-verify --tls-ca-path CA" verifies the
#     chain only, NOT the host name (a cert without the name passes); the
#     selftest checks the names with Python's ssl.  Its exit codes used:
#     24 no RCPT accepted, 26 DATA refused, 28 AUTH failed (also when AUTH is
#     not offered), 29 TLS failed or STARTTLS not offered.
#   * smtp-sink has no TLS at all (its -S is a dump-file prefix, not TLS);
#     its EHLO reply is PIPELINING 8BITMIME "AUTH PLAIN LOGIN" XCLIENT
#     XFORWARD ENHANCEDSTATUSCODES DSN and a last line "250 " with empty
#     text.  It needs -u when run as root.  A dump file is created (empty)
#     when DATA starts and is left behind empty when the client disconnects
#     before the final ".", hence sm_sink_count uses the -c counter.
#   * timings: sm_ca 0.1-0.2 s (EC P-256), sm_start ~0.3 s (mostly python
#     importing aiosmtpd), sm_strip_start 0.1-0.3 s, sm_sink_start < 0.1 s,
#     sm_stop 0.05-0.1 s per DIR (every server exits on TERM at once; the
#     process scan of /proc is part of it).  smtp-selftest.sh: ~7 s.
#   * as a non-root user (setpriv nobody) everything works the same
#     (smtp-sink then runs without -u).
# ----------------------------------------------------------------------------

# shellcheck source=util.sh
. "$(dirname "${BASH_SOURCE[0]}")/util.sh"

SM__LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SM_NAMES=${SM_NAMES:-"smtp.example.test localhost"}
SM_OPENSSL=${SM_OPENSSL:-openssl}
SM_SINK=${SM_SINK:-/usr/sbin/smtp-sink}
if [ -z "${SM_PYTHON:-}" ]; then
    if [ -x /usr/bin/python3 ]; then SM_PYTHON=/usr/bin/python3; else SM_PYTHON=python3; fi
fi

# ---------------------------------------------------------------- helpers

sm__err() { printf 'smtp.sh: %s\n' "$*" >&2; }

sm__dir() { lib__dir smtp.sh "$1"; }

# sm__check: python3 with aiosmtpd + openssl, else 77
sm__check() {
    if ! "$SM_PYTHON" -c 'import aiosmtpd.smtp' >/dev/null 2>&1; then
        printf 'SKIP: python3-aiosmtpd is not installed for %s (apt-get install python3-aiosmtpd)\n' \
            "$SM_PYTHON" >&2
        return 77
    fi
    if ! command -v "$SM_OPENSSL" >/dev/null 2>&1; then
        printf 'SKIP: openssl is not installed\n' >&2
        return 77
    fi
    return 0
}

sm__sink_check() {
    if [ ! -x "$SM_SINK" ]; then
        printf 'SKIP: smtp-sink is not installed (%s missing; apt-get install postfix)\n' "$SM_SINK" >&2
        return 77
    fi
    return 0
}

# sm__port_busy PORT: true if any TCP socket (v4/v6, any state) uses PORT
sm__port_busy() { lib__port_busy "$1"; }

# sm__pick_port [EXCLUDE...]: a random port without any TCP socket
sm__pick_port() { lib__pick_port smtp.sh "$@"; }

# sm__listening PORT: true if something listens on 127.0.0.1:PORT
sm__listening() { lib__listening "$1"; }

# sm__banner PORT [QUIT]: read a "220" greeting from 127.0.0.1:PORT within
# SM_BANNER_WAIT (2) s (then send QUIT and read the reply when QUIT is given)
sm__banner() {
    local fd line rc=1
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    while IFS= read -r -t "${SM_BANNER_WAIT:-2}" line <&"$fd"; do
        case $line in
        220-*) continue ;;
        220*) rc=0 ;;
        esac
        break
    done
    if [ $rc = 0 ] && [ -n "${2:-}" ]; then
        { printf 'QUIT\r\n' >&"$fd"; } 2>/dev/null
        IFS= read -r -t "${SM_BANNER_WAIT:-2}" line <&"$fd"
    fi
    exec {fd}>&-
    return $rc
}

# sm__is_ours PID DIR WHAT: PID is alive and runs WHAT (smtpd | strip |
# sink) for DIR (guards against pid reuse and other instances)
sm__is_ours() {
    local pid=$1 d=$2 what=$3 args="" arg
    lib__alive "$pid" || return 1
    while IFS= read -r -d '' arg; do args="$args$arg"$'\n'; done 2>/dev/null < "/proc/$pid/cmdline"
    case $what in
    smtpd) case $args in *"/smtpd.py"$'\n'"--dir"$'\n'"$d"$'\n'*) return 0 ;; esac ;;
    strip) case $args in *"/starttls_strip.py"$'\n'"--dir"$'\n'"$d"$'\n'*) return 0 ;; esac ;;
    sink) case $args in *smtp-sink$'\n'*"-d"$'\n'"$d/sink/"*) return 0 ;; esac ;;
    esac
    return 1
}

# sm__pids DIR WHAT: live processes of WHAT in DIR: the pid file's and any
# other process whose command line matches
sm__pids() {
    local d=$1 what=$2 pid file
    case $what in smtpd) file=smtpd.pid ;; strip) file=strip.pid ;; sink) file=sink.pid ;; esac
    {
        { read -r pid < "$d/$file"; } 2>/dev/null && sm__is_ours "$pid" "$d" "$what" && echo "$pid"
        for pid in /proc/[0-9]*; do
            pid=${pid#/proc/}
            sm__is_ours "$pid" "$d" "$what" && echo "$pid"
        done
    } | sort -un
}

# sm__spawn DIR PIDFILE OUTFILE CMD...: start CMD in the background, not as
# a child of the caller's shell (a bare "wait" must not block on it), with
# stdin /dev/null, stdout+stderr to OUTFILE, no inherited extra fds
sm__spawn() {
    local d=$1 pidfile=$2 out=$3
    shift 3
    (
        cd "$d" || exit 1
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
        done
        "$@" </dev/null >>"$out" 2>&1 &
        echo $! > "$pidfile"
    )
}

# sm__wait_up PID PORT MODE DEADLINE_DS: until PORT is ready (MODE banner,
# banner-quit or listen); 0 ready, 1 process died, 2 timeout
sm__wait_up() {
    local pid=$1 port=$2 mode=$3 deadline=$4
    while :; do
        lib__alive "$pid" || return 1
        case $mode in
        banner) sm__listening "$port" && sm__banner "$port" && return 0 ;;
        banner-quit) sm__listening "$port" && sm__banner "$port" quit && return 0 ;;
        listen) sm__listening "$port" && return 0 ;;
        esac
        [ "$(lib__now_ds)" -ge "$deadline" ] && return 2
        sleep 0.05
    done
}

# sm__stop_what DIR WHAT: TERM, bounded wait, KILL
sm__stop_what() {
    local d=$1 what=$2 pids p left deadline
    pids=$(sm__pids "$d" "$what")
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null
        deadline=$(( $(lib__now_ds) + ${SM_STOP_TIMEOUT:-10} * 10 ))
        while :; do
            left=""
            for p in $pids; do sm__is_ours "$p" "$d" "$what" && left="$left $p"; done
            [ -z "$left" ] && break
            if [ "$(lib__now_ds)" -ge "$deadline" ]; then
                sm__err "$what processes of $d did not exit, killing:$left"
                # shellcheck disable=SC2086
                kill -KILL $left 2>/dev/null
                sleep 0.2
                for p in $left; do
                    if sm__is_ours "$p" "$d" "$what"; then
                        sm__err "$what process $p of $d still running"
                        return 1
                    fi
                done
                break
            fi
            sleep 0.05
        done
    fi
    case $what in smtpd) rm -f "$d/smtpd.pid" ;; strip) rm -f "$d/strip.pid" ;; sink) rm -f "$d/sink.pid" ;; esac
    return 0
}

# ---------------------------------------------------------------- sm_ca

sm_ca() {
    sm__check || return $?
    local d c names n san out
    d=$(sm__dir "$1") || return 2
    shift
    names="$SM_NAMES $*"
    c=$d/ca
    mkdir -p "$c" || return 1
    san=""
    for n in $names; do san="${san:+$san,}DNS:$n"; done
    san="$san,IP:127.0.0.1"
    out=$(
        set -e
        cd "$c"
        "$SM_OPENSSL" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout ca.key -out ca.pem -days 3650 -subj "/CN=postseal SMTP test CA $$" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" 2>&1
        "$SM_OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout good.key -out good.csr -subj "/CN=${names%% *}" 2>&1
        printf '%s\n' "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=$san" \
            "authorityKeyIdentifier=keyid" > good.ext
        "$SM_OPENSSL" x509 -req -in good.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out good.pem -days 3650 -extfile good.ext 2>&1
        "$SM_OPENSSL" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout bad.key -out bad.pem -days 3650 -subj "/CN=${names%% *}" \
            -addext "subjectAltName=$san" \
            -addext "extendedKeyUsage=serverAuth" 2>&1
        chmod 0644 ca.pem good.pem bad.pem
        chmod 0600 ca.key good.key bad.key
    ) || {
        sm__err "openssl failed in $c:"
        printf '%s\n' "$out" >&2
        return 1
    }
    printf '%s\n' "$names" > "$c/names"
    printf '%s\n' "$c/ca.pem"
}

# ---------------------------------------------------------------- sm_start

sm_start() {
    sm__check || return $?
    local d kv k v try pid start deadline rc args failed
    local tls=${SM_TLS:-good} implicit=${SM_IMPLICIT:-0} requiretls=${SM_REQUIRETLS:-0}
    local auth=${SM_AUTH:-none} user=${SM_USER:-alice} password=${SM_PASSWORD:-secret}
    local auth_plaintext=${SM_AUTH_PLAINTEXT:-0} require_starttls=${SM_REQUIRE_STARTTLS:-0}
    local smtputf8=${SM_SMTPUTF8:-1} size=${SM_SIZE:-33554432} hostname=${SM_HOSTNAME:-smtp.example.test}
    local port="" tls_port="" fixed_port="" fixed_tls=""
    d=$(sm__dir "$1") || return 2
    shift
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        [ "$k" = "$kv" ] && { sm__err "sm_start: option '$kv' is not KEY=VALUE"; return 2; }
        case $k in
        tls) tls=$v ;; implicit) implicit=$v ;; requiretls) requiretls=$v ;;
        auth) auth=$v ;; user) user=$v ;; password) password=$v ;;
        auth_plaintext) auth_plaintext=$v ;; require_starttls) require_starttls=$v ;;
        smtputf8) smtputf8=$v ;; size) size=$v ;; hostname) hostname=$v ;;
        port) fixed_port=$v ;; tls_port) fixed_tls=$v ;;
        *) sm__err "sm_start: unknown option '$k'"; return 2 ;;
        esac
    done
    case $tls in good | bad | none) ;; *) sm__err "sm_start: tls=$tls (good|bad|none)"; return 2 ;; esac
    case $implicit in
    0 | '') implicit="" ;;
    1) if [ "$tls" = none ]; then implicit=good; else implicit=$tls; fi ;;
    good | bad) ;;
    *) sm__err "sm_start: implicit=$implicit (0|1|good|bad)"; return 2 ;;
    esac
    case $requiretls in 0 | '') requiretls=off ;; 1 | tls) requiretls=tls ;; always) ;;
    *) sm__err "sm_start: requiretls=$requiretls (0|1|always)"; return 2 ;;
    esac
    case $auth in none | optional | required) ;; *) sm__err "sm_start: auth=$auth"; return 2 ;; esac
    case $user$password in *$'\n'*) sm__err "sm_start: newline in user/password"; return 2 ;; esac
    case $size in '' | *[!0-9]*) sm__err "sm_start: size=$size"; return 2 ;; esac
    for v in "$fixed_port" "$fixed_tls"; do
        case $v in '' | [1-9] | [1-9]*[0-9]) ;; *) sm__err "sm_start: bad port '$v'"; return 2 ;; esac
        case $v in *[!0-9]*) sm__err "sm_start: bad port '$v'"; return 2 ;; esac
        if [ -n "$v" ] && sm__port_busy "$v"; then sm__err "sm_start: port $v is already in use"; return 1; fi
    done
    mkdir -p "$d/mail" || return 1
    if [ -n "$(sm__pids "$d" smtpd)" ]; then
        sm__err "smtpd.py is already running in $d"
        return 1
    fi
    if [ "$tls" != none ] || [ -n "$implicit" ]; then
        if [ ! -s "$d/ca/good.pem" ] || [ ! -s "$d/ca/bad.pem" ]; then
            sm_ca "$d" >/dev/null || return $?
        fi
    fi
    if [ "$auth" != none ]; then
        ( umask 077; printf '%s\n%s\n' "$user" "$password" > "$d/auth" ) || return 1
    else
        rm -f "$d/auth"
    fi
    rm -f "$d/port" "$d/tls_port" "$d/smtpd.pid"
    : >> "$d/smtpd.log" && : >> "$d/smtpd.out" || return 1

    start=$(lib__now_ds)
    deadline=$(( start + ${SM_START_TIMEOUT:-10} * 10 ))
    for try in 1 2 3 4 5; do
        port=$fixed_port
        [ -n "$port" ] || port=$(sm__pick_port) || return 1
        tls_port=""
        if [ -n "$implicit" ]; then
            tls_port=$fixed_tls
            [ -n "$tls_port" ] || tls_port=$(sm__pick_port "$port") || return 1
        fi
        args=(--dir "$d" --port "$port" --tls "$tls" --requiretls "$requiretls"
              --auth "$auth" --size "$size" --hostname "$hostname")
        [ -n "$implicit" ] && args+=(--tls-port "$tls_port" --implicit-cert "$implicit")
        [ "$auth_plaintext" = 1 ] && args+=(--auth-plaintext)
        [ "$require_starttls" = 1 ] && args+=(--require-starttls)
        [ "$smtputf8" = 0 ] && args+=(--no-smtputf8)
        sm__spawn "$d" "$d/smtpd.pid" "$d/smtpd.out" "$SM_PYTHON" "$SM__LIB/smtpd.py" "${args[@]}"
        pid=$(cat "$d/smtpd.pid" 2>/dev/null)
        [ -n "$pid" ] || { sm__err "could not start smtpd.py"; return 1; }
        sm__wait_up "$pid" "$port" banner-quit "$deadline"
        rc=$?
        if [ $rc = 0 ] && [ -n "$tls_port" ]; then
            sm__wait_up "$pid" "$tls_port" listen "$deadline"
            rc=$?
        fi
        [ $rc = 0 ] && break
        if [ $rc = 1 ]; then
            # bind race on an auto-picked port: try new ones
            failed=$(sed -n 's/.*cannot listen on 127\.0\.0\.1:\([0-9]*\):.*/\1/p' "$d/smtpd.out" | tail -n 1)
            if [ $try -lt 5 ] && [ -n "$failed" ] && [ "$failed" != "$fixed_port" ] &&
               [ "$failed" != "$fixed_tls" ]; then
                grep -v "cannot listen on 127.0.0.1:" "$d/smtpd.out" > "$d/smtpd.out.tmp"
                mv -f "$d/smtpd.out.tmp" "$d/smtpd.out"
                continue
            fi
            sm__err "smtpd.py in $d exited at start:"
            tail -n 5 "$d/smtpd.out" >&2
        else
            sm__err "smtpd.py in $d did not answer on 127.0.0.1:$port within ${SM_START_TIMEOUT:-10}s"
        fi
        sm_log_tail "$d" 10
        sm__stop_what "$d" smtpd >/dev/null 2>&1
        return 1
    done
    echo "$port" > "$d/port"
    [ -n "$tls_port" ] && echo "$tls_port" > "$d/tls_port"
    printf '%s\n' "$port"
}

# sm_port DIR [plain|tls|strip|sink]
sm_port() {
    local d f
    d=$(sm__dir "$1") || return 2
    case ${2:-plain} in
    plain) f=port ;; tls) f=tls_port ;; strip) f=strip_port ;; sink) f=sink_port ;;
    *) sm__err "sm_port: unknown kind '$2'"; return 2 ;;
    esac
    [ -s "$d/$f" ] || { sm__err "no $f in $d (not started?)"; return 1; }
    cat "$d/$f"
}

# ---------------------------------------------------------------- proxy

sm_strip_start() {
    local d up=${2:-} port=${3:-} auto=1 try pid deadline rc
    if ! "$SM_PYTHON" -c 'import asyncio' >/dev/null 2>&1; then
        printf 'SKIP: %s is not usable\n' "$SM_PYTHON" >&2
        return 77
    fi
    d=$(sm__dir "$1") || return 2
    case $up in [1-9]*) ;; *) sm__err "sm_strip_start: bad UPSTREAM_PORT '$up'"; return 2 ;; esac
    case $up$port in *[!0-9]*) sm__err "sm_strip_start: bad port"; return 2 ;; esac
    if [ -n "$port" ]; then
        auto=0
        sm__port_busy "$port" && { sm__err "sm_strip_start: port $port is already in use"; return 1; }
    fi
    mkdir -p "$d" || return 1
    if [ -n "$(sm__pids "$d" strip)" ]; then
        sm__err "starttls_strip.py is already running in $d"
        return 1
    fi
    rm -f "$d/strip_port" "$d/strip.pid"
    : >> "$d/strip.log" && : >> "$d/strip.out" || return 1
    deadline=$(( $(lib__now_ds) + ${SM_START_TIMEOUT:-10} * 10 ))
    for try in 1 2 3 4 5; do
        [ $auto = 1 ] && { port=$(sm__pick_port "$up") || return 1; }
        sm__spawn "$d" "$d/strip.pid" "$d/strip.out" \
            "$SM_PYTHON" "$SM__LIB/starttls_strip.py" --dir "$d" --port "$port" --upstream "$up"
        pid=$(cat "$d/strip.pid" 2>/dev/null)
        [ -n "$pid" ] || { sm__err "could not start starttls_strip.py"; return 1; }
        sm__wait_up "$pid" "$port" listen "$deadline"
        rc=$?
        [ $rc = 0 ] && break
        if [ $rc = 1 ] && [ $auto = 1 ] && [ $try -lt 5 ] &&
           grep -q "cannot listen on 127.0.0.1:" "$d/strip.out" 2>/dev/null; then
            grep -v "cannot listen on 127.0.0.1:" "$d/strip.out" > "$d/strip.out.tmp"
            mv -f "$d/strip.out.tmp" "$d/strip.out"
            continue
        fi
        sm__err "starttls_strip.py in $d did not come up on 127.0.0.1:$port"
        sm_log_tail "$d" 10
        sm__stop_what "$d" strip >/dev/null 2>&1
        return 1
    done
    echo "$port" > "$d/strip_port"
    printf '%s\n' "$port"
}

# sm_strip_count DIR mail|rcpt|data|message|starttls|conn
sm_strip_count() {
    local d re
    d=$(sm__dir "$1") || return 2
    case ${2:-} in
    mail) re=' C: [Mm][Aa][Ii][Ll]( |$)' ;;
    rcpt) re=' C: [Rr][Cc][Pp][Tt]( |$)' ;;
    data) re=' C: [Dd][Aa][Tt][Aa]$' ;;
    starttls) re=' C: [Ss][Tt][Aa][Rr][Tt][Tt][Ll][Ss]$' ;;
    message) re=' P: message data: ' ;;
    conn) re=' P: connect$' ;;
    *) sm__err "sm_strip_count: WHAT must be mail|rcpt|data|message|starttls|conn"; return 2 ;;
    esac
    if [ -f "$d/strip.log" ]; then grep -cE -- "$re" "$d/strip.log"; else echo 0; fi
    return 0
}

# ---------------------------------------------------------------- smtp-sink

sm_sink_start() {
    sm__sink_check || return $?
    local d port=${2:-} auto=1 try pid deadline rc u=()
    d=$(sm__dir "$1") || return 2
    case $port in '' | [1-9]*) ;; *) sm__err "sm_sink_start: bad PORT '$port'"; return 2 ;; esac
    case $port in *[!0-9]*) sm__err "sm_sink_start: bad PORT '$port'"; return 2 ;; esac
    if [ -n "$port" ]; then
        auto=0
        sm__port_busy "$port" && { sm__err "sm_sink_start: port $port is already in use"; return 1; }
    fi
    mkdir -p "$d/sink" || return 1
    if [ -n "$(sm__pids "$d" sink)" ]; then
        sm__err "smtp-sink is already running in $d"
        return 1
    fi
    # as root, smtp-sink insists on -u; root keeps DIR's modes irrelevant
    [ "$(id -u)" = 0 ] && u=(-u root)
    rm -f "$d/sink_port" "$d/sink.pid"
    : >> "$d/sink.out" || return 1
    deadline=$(( $(lib__now_ds) + ${SM_START_TIMEOUT:-10} * 10 ))
    for try in 1 2 3 4 5; do
        [ $auto = 1 ] && { port=$(sm__pick_port) || return 1; }
        # -c: counters on stdout ("sess=N quit=N mesg=N", CR-separated);
        # -d: one file per message, DIR/sink/YYYYmmddHHMMSS.<random hex>;
        # -h: greeting name; no -v (it would log the session), no -s (syslog)
        # shellcheck disable=SC2086  # SM_SINK_OPTS: extra options, split
        sm__spawn "$d" "$d/sink.pid" "$d/sink.out" "$SM_SINK" -c "${u[@]}" -h sink.example.test \
            -d "$d/sink/%Y%m%d%H%M%S." ${SM_SINK_OPTS:-} "127.0.0.1:$port" 100
        pid=$(cat "$d/sink.pid" 2>/dev/null)
        [ -n "$pid" ] || { sm__err "could not start smtp-sink"; return 1; }
        sm__wait_up "$pid" "$port" banner "$deadline"
        rc=$?
        [ $rc = 0 ] && break
        if [ $rc = 1 ] && [ $auto = 1 ] && [ $try -lt 5 ] &&
           grep -qi "address already in use" "$d/sink.out" 2>/dev/null; then
            continue
        fi
        sm__err "smtp-sink in $d did not come up on 127.0.0.1:$port"
        sm_log_tail "$d" 10
        sm__stop_what "$d" sink >/dev/null 2>&1
        return 1
    done
    echo "$port" > "$d/sink_port"
    printf '%s\n' "$port"
}

# sm_sink_count DIR: the last "mesg=N" of smtp-sink's -c counters (0 if none)
sm_sink_count() {
    local d n
    d=$(sm__dir "$1") || return 2
    n=$(tr '\r' '\n' < "$d/sink.out" 2>/dev/null | sed -n 's/.*mesg=\([0-9][0-9]*\).*/\1/p' | tail -n 1)
    printf '%s\n' "${n:-0}"
}

# sm_sink_files DIR: the non-empty message files, oldest first
sm_sink_files() {
    local d
    d=$(sm__dir "$1") || return 2
    [ -d "$d/sink" ] || return 0
    find "$d/sink" -type f -size +0 | LC_ALL=C sort
}

# ---------------------------------------------------------------- messages

sm_count() {
    local d n=0 f
    d=$(sm__dir "$1") || return 2
    for f in "$d"/mail/*.env; do
        [ -e "$f" ] && n=$((n + 1))
    done
    printf '%s\n' "$n"
}

# sm_wait_count DIR N [SECS]
sm_wait_count() {
    local d deadline
    d=$(sm__dir "$1") || return 2
    deadline=$(( $(lib__now_ds) + ${3:-10} * 10 ))
    while [ "$(sm_count "$d")" -lt "$2" ]; do
        if [ "$(lib__now_ds)" -ge "$deadline" ]; then
            sm__err "sm_wait_count: $(sm_count "$d") message(s) in $d/mail after ${3:-10}s, wanted $2"
            return 1
        fi
        sleep 0.05
    done
}

sm_env() {
    local d
    d=$(sm__dir "$1") || return 2
    [ -f "$d/mail/$2.env" ] || { sm__err "no message $2 in $d/mail"; return 1; }
    cat "$d/mail/$2.env"
}

# sm_env_get DIR N KEY
sm_env_get() {
    local d
    d=$(sm__dir "$1") || return 2
    [ -f "$d/mail/$2.env" ] || { sm__err "no message $2 in $d/mail"; return 1; }
    "$SM_PYTHON" -c '
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
if isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, list):
    for x in v:
        print(x)
elif v is not None:
    print(v)
' "$d/mail/$2.env" "$3"
}

# sm_rule DIR ADDRESS CODE TEXT...
sm_rule() {
    local d addr=$2 code=$3
    d=$(sm__dir "$1") || return 2
    shift 3 || { sm__err "sm_rule: DIR ADDRESS CODE TEXT"; return 2; }
    case $code in [2-5][0-9][0-9]) ;; *) sm__err "sm_rule: bad CODE '$code'"; return 2 ;; esac
    mkdir -p "$d" && printf '%s %s %s\n' "$addr" "$code" "$*" >> "$d/rules"
}

# sm_sessions DIR: connections smtpd.py logged, minus sm_start's probe
sm_sessions() {
    local d n
    d=$(sm__dir "$1") || return 2
    n=$(grep -c ' P: connect from ' "$d/smtpd.log" 2>/dev/null)
    n=${n:-0}
    [ "$n" -gt 0 ] && n=$((n - 1))
    printf '%s\n' "$n"
}

sm_log_tail() {
    local d n=${2:-30} f
    d=$(sm__dir "$1") || return 2
    for f in "$d/smtpd.log" "$d/smtpd.out" "$d/strip.log" "$d/strip.out" "$d/sink.out"; do
        [ -e "$f" ] || continue
        if [ -s "$f" ]; then
            printf -- '--- last %s lines of %s ---\n' "$n" "$f" >&2
            tr '\r' '\n' < "$f" | tail -n "$n" >&2
        else
            printf -- '--- %s is empty ---\n' "$f" >&2
        fi
    done
}

# ---------------------------------------------------------------- sm_stop

sm_stop() {
    local d rc=0 w
    d=$(sm__dir "$1") || return 2
    [ -d "$d" ] || return 0
    # the proxy first: it holds connections to the server
    for w in strip smtpd sink; do
        sm__stop_what "$d" "$w" || rc=1
    done
    return $rc
}
