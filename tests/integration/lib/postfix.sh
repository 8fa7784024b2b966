# shellcheck shell=bash
#
# tests/integration/lib/postfix.sh - run a PRIVATE Postfix instance for the
# postseal integration tests.  Source this file from a bash test script.
#
# The instance lives entirely below one directory DIR (keep the path short,
# e.g. "$(mktemp -d /tmp/ps-pf.XXXX)") and never touches the system's default
# instance (/etc/postfix, /var/spool/postfix) or its configuration:
#
#   DIR/etc/main.cf, DIR/etc/master.cf   configuration (postfix -c DIR/etc)
#   DIR/etc/vmailbox                     texthash: virtual mailbox map
#   DIR/spool/                           queue_directory
#   DIR/data/                            data_directory
#   DIR/mail/<domain>/<localpart>/       Maildirs written by virtual(8)
#   DIR/maillog                          log file (maillog_file + postlogd)
#   DIR/sendmail                         wrapper: /usr/sbin/sendmail -C DIR/etc
#
# Functions (all return 77 = automake "skip", with a one-line reason on
# stderr, when not running as root or when Postfix is not installed):
#
#   pf_start DIR                      create + start the instance, wait until up
#   pf_sendmail DIR                   print the sendmail command (the wrapper)
#   pf_wait_delivered DIR COUNT [TMO] wait until >= COUNT messages delivered
#   pf_mailbox DIR ADDRESS            print delivered files of ADDRESS (oldest first)
#   pf_stop DIR                       stop the instance, kill its leftovers
#   pf_maillog_tail DIR [N]           print the last N (40) log lines to stderr
#   pf_count_delivered DIR            print the number of delivered messages
#   pf_strip_delivery_headers FILE    print FILE without the 3 virtual(8) headers
#   pf_message_body FILE              print only the body (after the 1st empty line)
#
# Typical use:
#   . "$srcdir/lib/postfix.sh"
#   PF=$(mktemp -d /tmp/ps-pf.XXXX) || exit 99
#   trap 'pf_stop "$PF"; rm -rf "$PF"' EXIT
#   pf_start "$PF" || exit $?
#   SENDMAIL=$(pf_sendmail "$PF")
#   printf 'Subject: x\n\nbody\n' | "$SENDMAIL" -i -f me@example.net -- alice@example.org
#   pf_wait_delivered "$PF" 1 || exit 1
#   pf_mailbox "$PF" alice@example.org
#
# No network: master.cf has no inet service at all (and main.cf sets
# master_service_disable = inet as a second safety net), so the instance
# listens on no address.  default_transport/relay_transport = error, so mail
# for any domain except example.org/.net/.com bounces instead of leaving the
# machine; mydestination is empty, so local(8) is never used.
#
# With PF_CATCHALL=1 (when pf_start runs) the instance takes mail for
# every domain instead, all of it into the one Maildir DIR/mail/any/all/
# (pf_mailbox cannot tell recipients apart there: read the X-Original-To
# and Delivered-To lines virtual(8) prepends); nothing bounces for want of
# a domain.
#
# Mail is accepted for any local part of example.org, example.net and
# example.com.  The local parts listed in PF_LOCALPARTS get their own Maildir
# DIR/mail/<domain>/<localpart>/; everything else of those domains goes to
# the catch-all Maildir DIR/mail/<domain>/catchall/ (so pf_mailbox with
# catchall@<domain> lists it).  Unqualified addresses are qualified with
# myorigin = example.org ("root" -> root@example.org -> example.org/root/).
# Bounces (e.g. for a recipient outside the three domains) go to the envelope
# sender; when that is in one of the three domains the bounce is delivered
# into its Maildir and counts for pf_wait_delivered/pf_count_delivered.
#
# ----------------------------------------------------------------------------
# Submission and privileges (verified by experiment on Debian 12, Postfix 3.7):
#   * Postfix's sendmail always hands the message to the setgid-postdrop
#     program postdrop(1).  A setgid program only honours a non-default
#     configuration directory (sendmail -C / MAIL_CONFIG) when it is listed in
#     alternate_config_directories or multi_instance_directories of the
#     DEFAULT /etc/postfix/main.cf -- EXCEPT when the effective uid is 0:
#     mail_conf_suck() skips that check for root.  So as root the wrapper
#     DIR/sendmail works with NO change to /etc/postfix/main.cf, and this
#     library does not modify anything outside DIR.
#   * As a non-root user the wrapper fails (sendmail exit 75) with
#       sendmail: error: unauthorized configuration directory name: DIR/etc
#       sendmail: fatal: specify "alternate_config_directories = DIR/etc" or
#         "multi_instance_directories = DIR/etc" in /etc/postfix/main.cf
#     With MAIL_CONFIG=DIR/etc instead of -C, sendmail accepts it but the
#     setgid postdrop refuses it the same way; "postqueue -c DIR/etc" too.
#     Verified (in a private mount namespace with a bind-mounted COPY of
#     main.cf, the real file untouched) that appending DIR/etc to
#     alternate_config_directories in the default main.cf is all a non-root
#     submitter needs.  The tests run as root, so this library does not do it.
#
# What the message looks like in the Maildir (verified by experiment):
#   * virtual(8) PREPENDS exactly three header lines, always in this order:
#       Return-Path: <envelope sender>          ("<>" for -f '')
#       X-Original-To: <recipient as submitted>  (e.g. "root", "Frank@EXAMPLE.COM")
#       Delivered-To: <final recipient>          (e.g. "root@example.org")
#     pf_strip_delivery_headers FILE removes them.
#   * pickup/cleanup(8) additionally change the header (these are NOT removed
#     by pf_strip_delivery_headers; compare bodies with pf_message_body, or
#     filter these headers yourself):
#       - prepend "Received: by pf-test.example.org (Postfix, from userid 0)"
#         + a folded "\tid QUEUEID; DATE" continuation line (always);
#       - append "Message-Id: <...@pf-test.example.org>", "Date: ..." and
#         "From: <gecos of the submitting uid> <envelope sender>" (for -f ''
#         "From: MAILER-DAEMON") at the end of the header when missing;
#       - qualify unqualified addresses in From/To/Cc/... headers with
#         @example.org ("To: root" -> "To: root@example.org");
#       - remove Bcc:, Return-Path: and Content-Length: headers;
#       - a message with no header at all gets the added headers plus an
#         empty separator line; an empty message becomes header-only (no
#         empty line, no body).
#   * Line endings: Postfix's sendmail accepts LF and CRLF input (also mixed,
#     sendmail_fix_line_endings = always): every CRLF becomes LF, in header
#     and body.  A stray CR (not followed by LF) is replaced by a SPACE
#     (cleanup_replace_stray_cr_lf = yes, Postfix 3.7.10+).
#   * A leading mbox "From " line of the input is silently dropped.
#   * Otherwise the body is passed through byte for byte: long lines (1009,
#     5009 chars tested) are not folded or truncated in the Maildir (only
#     the SMTP client would do that), 8-bit bytes and even NUL bytes, trailing
#     blanks, empty lines and a lone "." line (with -i) are kept; a missing
#     final newline is added.  Header lines longer than 998 chars are kept.
#   * Recipients are matched case-insensitively ("Frank@EXAMPLE.COM" lands in
#     example.com/frank/); the Maildir files are written by uid 65534.
# ----------------------------------------------------------------------------

# shellcheck source=util.sh
. "$(dirname "${BASH_SOURCE[0]}")/util.sh"

PF_DOMAINS=${PF_DOMAINS:-"example.org example.net example.com"}
PF_LOCALPARTS=${PF_LOCALPARTS:-"alice bob carol dave erin frank grace heidi root test user1 user2 user3 user4 user5"}
PF_VUID=${PF_VUID:-65534}
PF_VGID=${PF_VGID:-65534}
PF_POSTFIX=${PF_POSTFIX:-/usr/sbin/postfix}
PF_POSTCONF=${PF_POSTCONF:-/usr/sbin/postconf}
PF_POSTQUEUE=${PF_POSTQUEUE:-/usr/sbin/postqueue}
PF_SENDMAIL_BIN=${PF_SENDMAIL_BIN:-/usr/sbin/sendmail}

# ---------------------------------------------------------------- helpers

pf__err() { printf 'postfix.sh: %s\n' "$*" >&2; }

# pf__check: 0 if usable, else 77 with a one-line reason on stderr.
pf__check() {
    lib__need_root 'private Postfix instance' || return 77
    local daemon_dir
    if [ ! -x "$PF_POSTFIX" ] || [ ! -x "$PF_POSTCONF" ] || [ ! -x "$PF_SENDMAIL_BIN" ]; then
        printf 'SKIP: Postfix is not installed (%s missing)\n' "$PF_POSTFIX" >&2
        return 77
    fi
    daemon_dir=$("$PF_POSTCONF" -dh daemon_directory 2>/dev/null)
    if [ -z "$daemon_dir" ] || [ ! -x "$daemon_dir/master" ] || [ ! -x "$daemon_dir/virtual" ]; then
        printf 'SKIP: Postfix is not installed completely (no master/virtual in %s)\n' "${daemon_dir:-?}" >&2
        return 77
    fi
    return 0
}

# pf__dir DIR: validate + normalise DIR (absolute, no trailing slash) -> stdout
pf__dir() { lib__dir postfix.sh "$1"; }

# pf__now_ds: current time in deciseconds (integer)
pf__now_ds() { lib__now_ds; }

# pf_maillog_tail DIR [N]: last N lines of the instance log, to stderr
pf_maillog_tail() {
    local d n=${2:-40}
    d=$(pf__dir "$1") || return 2
    if [ -s "$d/maillog" ]; then
        printf -- '--- last %s lines of %s ---\n' "$n" "$d/maillog" >&2
        tail -n "$n" "$d/maillog" >&2
        printf -- '--- end of maillog ---\n' >&2
    else
        printf -- '--- %s is empty or missing ---\n' "$d/maillog" >&2
    fi
}

# pf__alive PID: true if PID exists and is not a zombie (in some containers
# PID 1 reaps the orphaned master only after a long delay).
pf__alive() { lib__alive "$1"; }

# pf__master_pid DIR: pid of the running master of this instance, or fail
pf__master_pid() {
    local pid
    [ -r "$1/spool/pid/master.pid" ] || return 1
    { read -r pid < "$1/spool/pid/master.pid"; } 2>/dev/null || return 1
    pid=${pid//[!0-9]/}
    [ -n "$pid" ] || return 1
    pf__alive "$pid" || return 1
    # make sure the pid was not recycled by some other program
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ] || return 1
    printf '%s\n' "$pid"
}

# pf__instance_pids DIR: pids of all live processes of this instance: every
# Postfix daemon of it runs with the queue directory DIR/spool as its working
# directory (nothing is chrooted); also any child of its master.
pf__instance_pids() {
    local d=$1 spool link p ddir master
    spool=$(readlink -f "$d/spool" 2>/dev/null) || return 0
    [ -n "$spool" ] || return 0
    ddir=$("$PF_POSTCONF" -dh daemon_directory 2>/dev/null)
    {
        # /proc/PID/cwd paths contain no blanks
        find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$spool" 2>/dev/null |
        while read -r link; do
            p=${link#/proc/}; p=${p%/cwd}
            # only Postfix programs, never e.g. a shell cd'ed into the spool
            case $(readlink "/proc/$p/exe" 2>/dev/null) in
            "${ddir:-/usr/lib/postfix/sbin}"/*) ;;
            *) continue ;;
            esac
            pf__alive "$p" && printf '%s\n' "$p"
        done
        if master=$(pf__master_pid "$d"); then
            for p in $(pgrep -P "$master"); do
                pf__alive "$p" && printf '%s\n' "$p"
            done
        fi
    } | sort -un
}

# ---------------------------------------------------------------- pf_start

pf__write_config() {
    local d=$1 dom lp pf_domains=$PF_DOMAINS pf_maps="texthash:$1/etc/vmailbox"
    if [ "${PF_CATCHALL:-}" = 1 ]; then
        pf_domains=static:all
        pf_maps=static:any/all/
    fi
    {
        cat <<EOF
# Private Postfix instance for the postseal integration tests.
# Generated by tests/integration/lib/postfix.sh - do not edit.
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
# mail_owner/setgid_group/daemon_directory/... keep their defaults.

# --- identity; no DNS lookups needed for any of these
myhostname = pf-test.example.org
mydomain = example.org
myorigin = example.org
append_at_myorigin = yes
append_dot_mydomain = no
mydestination =
local_transport = error:local delivery is disabled in the postseal test instance
alias_maps =
alias_database =
recipient_delimiter =
biff = no

# --- no network at all
inet_interfaces = loopback-only
inet_protocols = ipv4
master_service_disable = inet
mynetworks = 127.0.0.0/8
relayhost =
default_transport = error:outbound mail is disabled in the postseal test instance
relay_transport = error:outbound mail is disabled in the postseal test instance
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native

# --- delivery: virtual(8) into Maildirs below $d/mail
virtual_mailbox_domains = $pf_domains
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = $pf_maps
virtual_alias_maps =
virtual_uid_maps = static:$PF_VUID
virtual_gid_maps = static:$PF_VGID
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
message_size_limit = 104857600

# --- be fast
in_flow_delay = 0
delay_warning_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h

# --- logging into a plain file (postlogd), readable by the tests
maillog_file = $d/maillog
maillog_file_prefixes = $d
syslog_name = postfix-pstest
EOF
    } > "$d/etc/main.cf" || return 1

    # Same services as the Debian master.cf, minus every inet service, minus
    # smtp/relay/lmtp/tlsmgr/postscreen (nothing may leave the machine) and
    # with chroot = n everywhere (the chroot would be DIR/spool).
    cat > "$d/etc/master.cf" <<'EOF' || return 1
# Private Postfix instance for the postseal integration tests.
# NO inet service: nothing listens on any address.
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

    {
        echo "# texthash: virtual mailbox map (generated by postfix.sh)"
        for dom in $PF_DOMAINS; do
            for lp in $PF_LOCALPARTS; do
                printf '%s@%s %s/%s/\n' "$lp" "$dom" "$dom" "$lp"
            done
            printf '@%s %s/catchall/\n' "$dom" "$dom"
        done
    } > "$d/etc/vmailbox" || return 1

    cat > "$d/sendmail" <<EOF || return 1
#!/bin/sh
# sendmail of the private Postfix instance in $d (generated by postfix.sh)
exec $PF_SENDMAIL_BIN -C $d/etc "\$@"
EOF
    chmod 0755 "$d/sendmail" || return 1
    chmod 0644 "$d/etc/main.cf" "$d/etc/master.cf" "$d/etc/vmailbox" || return 1
    # The postfix(1) command sleeps (in 0.3 s steps, up to ~2 s) until
    # main.cf is at least 2 seconds old before it starts anything; backdate
    # the freshly written files so that "postfix start" does not wait.
    touch -d "@$(( $(date +%s) - 10 ))" "$d/etc/main.cf" "$d/etc/master.cf" "$d/etc/vmailbox" || return 1
}

# pf__diagnose DIR: the postfix(1) command writes its fatal errors (bad
# main.cf values etc.) only to a terminal or to syslog, never to a pipe, so
# re-run "postfix check" (which starts nothing) on a pseudo terminal.
pf__diagnose() {
    command -v script >/dev/null 2>&1 || return 0
    printf -- '--- postfix -c %s/etc check ---\n' "$1" >&2
    script -qec "$PF_POSTFIX -c $1/etc check" /dev/null </dev/null 2>&1 | tr -d '\r' >&2
}

pf_start() {
    pf__check || return $?
    local d rc out start now deadline master
    d=$(pf__dir "$1") || return 2

    if pf__master_pid "$d" >/dev/null 2>&1; then
        pf__err "an instance is already running in $d"
        return 1
    fi

    mkdir -p "$d" "$d/etc" "$d/spool" "$d/data" "$d/mail" || return 1
    # every daemon (uid postfix) and virtual(8) (uid $PF_VUID) must be able
    # to traverse DIR; mktemp -d creates it 0700.
    chown root:root "$d" "$d/etc" "$d/spool" || return 1
    chmod 0755 "$d" "$d/etc" "$d/spool" || return 1
    chown "$("$PF_POSTCONF" -dh mail_owner)" "$d/data" || return 1
    chmod 0700 "$d/data" || return 1
    chown "$PF_VUID:$PF_VGID" "$d/mail" || return 1
    chmod 0755 "$d/mail" || return 1
    : > "$d/maillog" || return 1
    chmod 0644 "$d/maillog"

    pf__write_config "$d" || { pf__err "cannot write configuration in $d"; return 1; }

    # "postfix start" prints its diagnostics only to a terminal (or the log);
    # keep whatever it prints and show it together with the log on failure.
    start=$(pf__now_ds)
    if command -v timeout >/dev/null 2>&1; then
        out=$(timeout "${PF_START_TIMEOUT:-20}" "$PF_POSTFIX" -c "$d/etc" start 2>&1 </dev/null)
    else
        out=$("$PF_POSTFIX" -c "$d/etc" start 2>&1 </dev/null)
    fi
    rc=$?
    if [ $rc -ne 0 ]; then
        pf__err "'postfix -c $d/etc start' failed (exit $rc)"
        [ -n "$out" ] && printf '%s\n' "$out" >&2
        pf__diagnose "$d"
        pf_maillog_tail "$d"
        pf_stop "$d" >/dev/null 2>&1
        return 1
    fi

    # Wait until the master runs and has started pickup and qmgr.
    deadline=$(( start + ${PF_START_TIMEOUT:-20} * 10 ))
    while :; do
        if master=$(pf__master_pid "$d"); then
            if pgrep -P "$master" -x pickup >/dev/null 2>&1 &&
               pgrep -P "$master" -x qmgr >/dev/null 2>&1; then
                return 0
            fi
        fi
        now=$(pf__now_ds)
        if [ "$now" -ge "$deadline" ]; then
            pf__err "Postfix instance in $d did not come up within ${PF_START_TIMEOUT:-20}s (master pid: ${master:-none})"
            [ -n "$out" ] && printf '%s\n' "$out" >&2
            pf_maillog_tail "$d"
            pf_stop "$d" >/dev/null 2>&1
            return 1
        fi
        sleep 0.1
    done
}

# ---------------------------------------------------------------- pf_sendmail

pf_sendmail() {
    pf__check || return $?
    local d
    d=$(pf__dir "$1") || return 2
    if [ ! -x "$d/sendmail" ]; then
        pf__err "no sendmail wrapper in $d (pf_start not run?)"
        return 1
    fi
    printf '%s\n' "$d/sendmail"
}

# ---------------------------------------------------------------- pf_wait_delivered

# pf_count_delivered DIR: number of delivered messages (all Maildirs)
pf_count_delivered() {
    local d
    d=$(pf__dir "$1") || return 2
    find "$d/mail" -mindepth 4 -maxdepth 4 -path "$d/mail/*/*/new/*" -type f 2>/dev/null | wc -l
}

pf_wait_delivered() {
    pf__check || return $?
    local d want=$2 tmo=${3:-20} n now deadline
    d=$(pf__dir "$1") || return 2
    case $want in ''|*[!0-9]*) pf__err "pf_wait_delivered: bad COUNT '$want'"; return 2 ;; esac
    case $tmo in ''|*[!0-9.]*) pf__err "pf_wait_delivered: bad TIMEOUT '$tmo'"; return 2 ;; esac
    deadline=$(( $(pf__now_ds) + ${tmo%%.*} * 10 ))
    n=$(pf_count_delivered "$d")
    [ "$n" -ge "$want" ] && return 0
    # kick the queue once (deferred mail, or a pickup that has not woken up)
    "$PF_POSTQUEUE" -c "$d/etc" -f >/dev/null 2>&1 </dev/null
    while :; do
        n=$(pf_count_delivered "$d")
        [ "$n" -ge "$want" ] && return 0
        now=$(pf__now_ds)
        if [ "$now" -ge "$deadline" ]; then
            pf__err "only $n of $want message(s) delivered in $d/mail after ${tmo}s"
            "$PF_POSTQUEUE" -c "$d/etc" -p 2>&1 </dev/null | tail -n 20 >&2
            pf_maillog_tail "$d"
            return 1
        fi
        sleep 0.1
    done
}

# ---------------------------------------------------------------- pf_mailbox

# pf_mailbox DIR ADDRESS: paths of the messages delivered to ADDRESS,
# oldest first.  ADDRESS without @ is qualified with @example.org.  Prints
# nothing (and returns 0) when the Maildir is empty or does not exist.
pf_mailbox() {
    local d addr lp dom
    d=$(pf__dir "$1") || return 2
    addr=$2
    if [ -z "$addr" ]; then pf__err "pf_mailbox: missing ADDRESS"; return 2; fi
    addr=${addr#<}; addr=${addr%>}
    case $addr in
    *@*) lp=${addr%@*}; dom=${addr##*@} ;;
    *) lp=$addr; dom=example.org ;;
    esac
    lp=$(printf '%s' "$lp" | tr '[:upper:]' '[:lower:]')
    dom=$(printf '%s' "$dom" | tr '[:upper:]' '[:lower:]')
    [ -d "$d/mail/$dom/$lp/new" ] || return 0
    # %T@ = mtime with fraction; Maildir names start with the delivery time
    # too, so ties are ordered by name.
    find "$d/mail/$dom/$lp/new" -mindepth 1 -maxdepth 1 -type f -printf '%T@ %p\n' |
        sort -k1,1n -k2,2 | cut -d' ' -f2-
}

# ---------------------------------------------------------------- pf_stop

pf_stop() {
    pf__check || return $?
    local d master now deadline pids
    d=$(pf__dir "$1") || return 2
    [ -d "$d/etc" ] || return 0

    if master=$(pf__master_pid "$d"); then
        # "abort" = SIGTERM to the master, no 5 s grace loop like "stop"
        timeout 10 "$PF_POSTFIX" -c "$d/etc" abort >/dev/null 2>&1 </dev/null ||
            kill -TERM "$master" 2>/dev/null
        deadline=$(( $(pf__now_ds) + ${PF_STOP_TIMEOUT:-10} * 10 ))
        while pf__alive "$master" &&
              [ "$(cat "/proc/$master/comm" 2>/dev/null)" = master ]; do
            now=$(pf__now_ds)
            if [ "$now" -ge "$deadline" ]; then
                pf__err "master $master of $d did not exit, killing it"
                kill -KILL "$master" 2>/dev/null
                break
            fi
            sleep 0.1
        done
    fi

    # Daemons exit on their own once the master is gone; give them a moment,
    # then kill whatever of THIS instance is left.
    deadline=$(( $(pf__now_ds) + 20 ))
    while pids=$(pf__instance_pids "$d") && [ -n "$pids" ]; do
        now=$(pf__now_ds)
        if [ "$now" -ge "$deadline" ]; then
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null
            sleep 0.1
            pids=$(pf__instance_pids "$d")
            if [ -n "$pids" ]; then
                pf__err "processes of $d still running: ${pids//$'\n'/ }"
                return 1
            fi
            break
        fi
        sleep 0.1
    done
    return 0
}

# ---------------------------------------------------------------- message helpers

# pf_strip_delivery_headers FILE: print the delivered message without the
# Return-Path/X-Original-To/Delivered-To lines that virtual(8) prepended.
pf_strip_delivery_headers() {
    # they are always lines 1-3; sed (unlike mawk) is safe for NUL bytes
    sed -E '1,3{/^(Return-Path|X-Original-To|Delivered-To):/d}' "$1"
}

# pf_message_body FILE: print the body of a delivered message (everything
# after the first empty line), byte for byte.
pf_message_body() {
    sed '1,/^$/d' "$1"
}
