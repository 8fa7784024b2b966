#!/bin/bash
# bench/discovery.sh - postseal's key discovery figures (issue #2), each next
# to its comparison measured in the same run, alternating. Prints Markdown
# sections on stdout (nothing else; diagnostics go to stderr):
#   3. key discovery for 20 recipients in 20 domains, every server answer
#      delayed by 100 ms: postseal-keyfetch for all 20 at once, next to one
#      address alone, to gpg --locate-keys and to the 20 looked up one
#      after another.
#      Target: all 20 within 1.5x one lookup's time (issue #2); and no
#      worse than the 1.28x measured in the lab before the bench moved
#      into the test world (issue #11).
#   3b. a 10 KB submission whose recipient's key is in postseal's cache
#      (found earlier by discovery), next to one whose key is in the local
#      keyring and to raw gpg. Target: the cache costs no more.
#   6. the first submission after a fresh cache (discovery on the way).
# postseal runs with a DEFAULT configuration: [transport] and [default]
# only, no [keyfetch] section (no ca-file, connect-to, dns-forwarder or
# trust-anchor). The servers are those of the test world
# (tests/integration/lib/world.sh): the bench re-runs itself in a private
# network and mount namespace with a signed root, nsd, a validating
# unbound on 127.0.0.1:53 named by /etc/resolv.conf, the test root's key
# in /usr/share/dns/root.key and the test CA in the system bundle (bind
# mounts only this bench's processes see). bench/delayproxy.py sits
# between unbound and nsd (on the name servers' address, 127.0.0.2:53,
# nsd behind it on 127.0.0.3) and between the clients and nginx (on each
# WKD host's address, 127.0.1.N:443, nginx behind it on 127.0.2.N:443).
# Needs root, unshare, nginx, nsd, unbound, ldnsutils, openssl, gpg,
# python3; everything lives under one /tmp directory and is removed at
# exit.
#   POSTSEAL   the postseal binary (postseal-keyfetch is looked for next to
#              it, or set KEYFETCH)
#   SRCDIR     the source tree
#   QUICK=1    a few iterations only (CI), well under 30 s
#   DELAY_MS   the delay of every server answer (100)
#   KEYS_IN    where the 20 keys are published: wkd (default: all in WKD,
#              DANE answers a DNSSEC-secure NXDOMAIN) or split (b01, b03, ...
#              in DANE only, b02, b04, ... in WKD only)
#   GPG_CMP=0  do not compare with gpg --locate-keys (postseal's own lookups
#              one after another stand in for it)
#   SEQ=1      also time postseal's own lookups one after another when the
#              gpg comparison runs
# Before every timed run the resolver forgets the 20 domains (unbound-
# control flush_zone dNN.example): each run pays for their delegations,
# keys and answers as a first lookup does, while the root and the TLD stay
# known, as on any resolver in use.
# Exit: 0 when the figures were measured (met or not), 1 on a set-up
# failure, 77 when the test world cannot run here (no root, no unshare,
# a server missing): the reason is the last line on stderr.
set -uo pipefail
: "${POSTSEAL:?}" "${SRCDIR:?}"
SRCDIR=$(cd "$SRCDIR" && pwd)
POSTSEAL=$(cd "$(dirname "$POSTSEAL")" && pwd)/$(basename "$POSTSEAL")
KEYFETCH=${KEYFETCH:-$(dirname "$POSTSEAL")/postseal-keyfetch}
export SRCDIR POSTSEAL KEYFETCH
GPG_CMP=${GPG_CMP:-1}
QUICK=${QUICK:-0}
DELAY_MS=${DELAY_MS:-100}
KEYS_IN=${KEYS_IN:-wkd}
N=$([ "$QUICK" = 1 ] && echo 3 || echo 11)     # discovery runs of each kind
NSEQ=$([ "$QUICK" = 1 ] && echo 1 || echo 2)   # one-after-another runs (20 lookups each)
NRAW=$([ "$QUICK" = 1 ] && echo 0 || echo 5)   # runs without the delay (breakdown)
NGPG1=$([ "$QUICK" = 1 ] && echo 1 || echo "$N") # gpg runs for one address
NSUB=$([ "$QUICK" = 1 ] && echo 5 || echo 21)  # submissions of each kind
NCOLD=$([ "$QUICK" = 1 ] && echo 3 || echo 21) # cold submissions (a discovery each)
NADDR=20
LIB=$SRCDIR/tests/integration/lib
BENCH=$SRCDIR/bench

die() { printf 'discovery.sh: %s\n' "$*" >&2; exit 1; }
skip() { printf 'discovery.sh: not measured here: %s\n' "$*" >&2; exit 77; }
case $KEYS_IN in wkd | split) ;; *) die "KEYS_IN must be wkd or split" ;; esac
[ -x "$KEYFETCH" ] || die "no postseal-keyfetch at $KEYFETCH (make, or set KEYFETCH)"

# --- the test world: a private network and mount namespace ---------------------
# the name servers' address (glue, root hints) is the delay proxy's; nsd
# listens behind it
WORLD_NS_ADDR=127.0.0.2 WORLD_NSD_LISTEN=127.0.0.3
# an hour, as many zones have: figure 4's cached answers (DANE's secure
# NXDOMAIN for b01 among them) must outlive figure 3, which runs between
# their lookup and their use; the resolver forgets by flushing, not by TTL
# shellcheck disable=SC2034  # read by world.sh
WORLD_TTL=3600
# shellcheck source=../tests/integration/lib/world.sh
. "$LIB/world.sh" || die "cannot read $LIB/world.sh"
# the bench never fails CI for want of a server: a missing one is a skip
why=$(CI='' world_check 2>&1); rc=$?
[ $rc = 0 ] || { [ $rc = 77 ] && skip "${why#SKIP: }"; die "$why"; }
command -v "$WORLD_UNBOUND_CONTROL" >/dev/null || skip "unbound-control is missing (package unbound)"
if [ "${WORLD_NS:-}" != 1 ] &&
	! unshare -m -n --propagation private ip link set lo up >/dev/null 2>&1; then
	skip "\`unshare -m -n\` (with \`ip link set lo up\` in it) does not work here: the test
world needs a private network and mount namespace"
fi
# re-runs this script in the namespace (does not return then); in it, 0
world_enter "${BASH_SOURCE[0]}" "$@"
rc=$?
[ $rc = 0 ] || { [ $rc = 77 ] && skip "the test world cannot run here (see above)"; die "world_enter failed"; }
command -v gpg >/dev/null || die "gpg is not installed"

T_START=$EPOCHREALTIME
note() { # with the seconds since the start
	awk -v a="$T_START" -v b="$EPOCHREALTIME" -v m="$*" \
		'BEGIN {printf "discovery.sh: [%5.1fs] %s\n", b - a, m}' >&2
}
note "in a private network and mount namespace"

dom() { printf 'd%02d.example' "$1"; }
addr() { printf 'b%02d@d%02d.example' "$1" "$1"; }
in_dane() { [ "$KEYS_IN" = split ] && [ $(($1 % 2)) = 1 ]; }
front() { echo "127.0.1.$1"; } # the address of openpgpkey.dNN.example (the proxy)
back() { echo "127.0.2.$1"; }  # where nginx serves it

# --- private directory, cleaned up whatever happens ---------------------------
# shellcheck disable=SC2119  # a directory of its own
world_init || die "world_init failed"
T=$W PROXY_PID=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$PROXY_PID" ]; then
		kill "$PROXY_PID" 2>/dev/null
		wait "$PROXY_PID" 2>/dev/null
	fi
	world_cleanup
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# a snapshot of the binaries: a rebuild meanwhile must not change the figures
mkdir "$T/bin"
cp "$POSTSEAL" "$T/bin/postseal" && cp "$KEYFETCH" "$T/bin/postseal-keyfetch" &&
	cp "$(dirname "$POSTSEAL")/postseal-net.so" "$T/bin/postseal-net.so" ||
	die "cannot copy the binaries and the network module"
POSTSEAL=$T/bin/postseal KEYFETCH=$T/bin/postseal-keyfetch

# --- 20 throwaway keys, b01@d01.example ... b20@d20.example ------------------
for i in $(seq 1 $NADDR); do
	a=$(addr "$i")
	world_gpg_key "$i" "b$(printf %02d "$i") <$a>" || die "no key for $a"
	echo "$a $(cat "$T/keys/$i.fpr")" >> "$T/fprs"
done
note "made $NADDR keys"

# --- the world: 20 signed domains, DANE or WKD ---------------------------------
world_zone example
DOMS=""
for i in $(seq 1 $NADDR); do
	a=$(addr "$i") z=$(dom "$i")
	DOMS="$DOMS $z"
	world_zone "$z"
	world_rr "openpgpkey.$z" A "$(front "$i")"
	world_site "$(back "$i")" "openpgpkey.$z"
	if in_dane "$i"; then
		world_openpgpkey "$a" "$T/keys/$i.gpg" || die "world_openpgpkey $a"
	else
		world_wkd_put "$a" "$T/keys/$i.gpg" advanced || die "world_wkd_put $a"
	fi
done

# --- the delay: every answer of nsd (UDP and TCP) and of nginx ----------------
# (started first: unbound asks the name servers while it starts)
pspecs=(--udp "$WORLD_NS_ADDR:53:$WORLD_NSD_LISTEN:53" --tcp "$WORLD_NS_ADDR:53:$WORLD_NSD_LISTEN:53")
for i in $(seq 1 $NADDR); do pspecs+=(--tcp "$(front "$i"):443:$(back "$i"):443"); done
"$WORLD_PY" "$BENCH/delayproxy.py" --delay-ms "$DELAY_MS" "${pspecs[@]}" \
	--ready "$T/run/proxy.ready" --state "$T/run/proxy.state" 2> "$T/run/proxy.log" &
PROXY_PID=$!
for _ in $(seq 1 100); do [ -s "$T/run/proxy.ready" ] && break; sleep 0.05; done
[ -s "$T/run/proxy.ready" ] || { cat "$T/run/proxy.log" >&2; die "the delay proxy did not start"; }
net_uses() { wc -l < "$T/run/proxy.log"; }
dns_uses() { grep -c " -> $WORLD_NSD_LISTEN:53" "$T/run/proxy.log"; }
# proxy_delay on|off: the proxy's delay, DELAY_MS or none
proxy_delay() {
	local want sig _
	[ "$1" = on ] && want="delay $DELAY_MS" sig=USR2 || want="delay 0" sig=USR1
	rm -f "$T/run/proxy.state"
	kill -"$sig" "$PROXY_PID" || die "the delay proxy is gone"
	for _ in $(seq 1 100); do
		[ "$(cat "$T/run/proxy.state" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.02
	done
	die "the delay proxy did not switch to $want"
}

world_start || { world_log_tail 10; die "the test world did not start"; }
note "world up: nsd behind $WORLD_NS_ADDR:53, nginx behind 127.0.1.1-$NADDR:443, delay ${DELAY_MS} ms"
# flush ADDR...: the resolver forgets the addresses' domains, so that the
# next lookup pays for them as a first one does (root and TLD stay known)
flush() {
	local a z=""
	for a in "$@"; do z="$z ${a##*@}"; done
	# shellcheck disable=SC2086
	world_resolver_flush $z || die "cannot flush the resolver's cache"
}

# --- postseal: configuration, sink, keyrings -----------------------------------
printf '#!/bin/sh\nexec cat > /dev/null\n' > "$T/sink"
printf '#!/bin/sh\nexec cat > "%s/sunk"\n' "$T" > "$T/sink-keep"
chmod 755 "$T/sink" "$T/sink-keep"
# a default configuration: no [keyfetch] section
conf() { # FILE SINK
	cat > "$1" <<EOF
[transport]
mode = sendmail
sendmail = $2
[default]
sources = local pinned dane wkd
lookup-timeout = 10
EOF
	chmod 600 "$1"
}
conf "$T/conf" "$T/sink"
conf "$T/conf-keep" "$T/sink-keep"
# postseal's user files and state: this bench's own
mkdir -m 700 "$T/home"
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_STATE_HOME=$T/home/.state
# the user's keyring: empty for discovery; with b01's key for figure 4
mkdir -m 700 "$T/g" "$T/gl"
GNUPGHOME=$T/g gpg --batch -q --list-keys >/dev/null 2>&1
GNUPGHOME=$T/gl gpg --batch -q --import "$T/keys/1.gpg" 2>/dev/null || die "import into $T/gl"
export GNUPGHOME=$T/g
mkdir "$T/c"

ALL=$(for i in $(seq 1 $NADDR); do addr "$i"; echo; done)
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print int(m)}'; }
ms() { printf '%d.%03d ms' $(($1 / 1000)) $(($1 % 1000)); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
RUN=0
fresh_cache() { RUN=$((RUN + 1)); mkdir "$T/c/$RUN"; echo "$T/c/$RUN"; }
done_cache() { # forget a run's cache (and any agent started in its keyring)
	local h
	find "$1" -name 'S.gpg-agent' -printf '%h\n' 2>/dev/null |
		while read -r h; do gpgconf --homedir "$h" --kill all >/dev/null 2>&1; done
	rm -rf "$1"
}

# keyfetch OUT ADDR...: one postseal-keyfetch with a fresh cache, the
# resolver having forgotten the addresses' domains; prints its wall time
# in microseconds; OUT gets its output, OUT.rc its exit status
keyfetch() {
	local out=$1 c a b rc; shift
	c=$(fresh_cache)
	flush "$@"
	a=$(now_us)
	XDG_CACHE_HOME=$c "$KEYFETCH" -C "$T/conf" "$@" > "$out" 2> "$out.err"
	rc=$?
	b=$(now_us)
	echo "$rc" > "$out.rc"
	done_cache "$c"
	echo $((b - a))
}
# check OUT ADDR...: every address got its own key from the expected source
check() {
	local out=$1 a want src; shift
	[ "$(cat "$out.rc")" = 0 ] || return 1
	for a in "$@"; do
		want=$(awk -v a="$a" '$1 == a {print $2}' "$T/fprs")
		src=wkd
		in_dane "$(echo "$a" | sed 's/^b0*\([0-9]*\)@.*/\1/')" && src=dane
		grep -qx "$a $want $src" "$out" || return 1
	done
}
check_seq() { [ "$(cat "$1.rc")" = 0 ]; }
# keyfetch_seq OUT ADDR...: one postseal-keyfetch per address, one after
# another, sharing one fresh cache; prints the total wall time; OUT.rc is 0
# when every address got its key
keyfetch_seq() {
	local out=$1 c a t0 t1 bad=0; shift
	c=$(fresh_cache)
	flush "$@"
	t0=$(now_us)
	for a in "$@"; do
		XDG_CACHE_HOME=$c "$KEYFETCH" -C "$T/conf" "$a" > "$out.1" 2> "$out.1.err"
		echo $? > "$out.1.rc"
		check "$out.1" "$a" || bad=1
	done
	t1=$(now_us)
	echo "$bad" > "$out.rc"
	done_cache "$c"
	echo $((t1 - t0))
}
# gpg_locate OUT ADDR...: one `gpg --locate-keys` for the addresses in a fresh
# GnuPG home whose dirmngr is already running (its start is not counted);
# prints its wall time; OUT.keys gets the keys it imported
GPG_AKL=clear,local,dane,wkd,nodefault # postseal's sources, in its order
gpg_locate() {
	local out=$1 h a b rc; shift
	RUN=$((RUN + 1)) h=$T/gh/$RUN
	mkdir -p "$T/gh" && mkdir -m 700 "$h"
	gpgconf --homedir "$h" --launch dirmngr >/dev/null 2>&1
	flush "$@"
	a=$(now_us)
	GNUPGHOME=$h gpg --batch --no-tty --auto-key-locate "$GPG_AKL" --locate-keys "$@" \
		> "$out" 2> "$out.err"
	rc=$?
	b=$(now_us)
	echo "$rc" > "$out.rc"
	GNUPGHOME=$h gpg --batch --with-colons --list-keys > "$out.keys" 2>/dev/null
	gpgconf --homedir "$h" --kill all >/dev/null 2>&1
	rm -rf "$h"
	echo $((b - a))
}
gpg_check() { # OUT ADDR...: gpg found every address's key
	local out=$1 a want; shift
	[ "$(cat "$out.rc")" = 0 ] || return 1
	for a in "$@"; do
		want=$(awk -v a="$a" '$1 == a {print $2}' "$T/fprs")
		grep -q "^fpr:*$want:" "$out.keys" || return 1
	done
}
# timed KIND CHECK RUNNER ARGS...: run once, append the time to KIND.times
# when CHECK passes, else count a failure in KIND.fails
timed() {
	local kind=$1 chk=$2 t; shift 2
	t=$("$@")
	if "$chk" "$2" "${@:3}"; then
		echo "$t" >> "$T/$kind.times"
	else
		echo x >> "$T/$kind.fails"
		note "$kind: a run did not find every key (exit $(cat "$2.rc"))"
	fi
}
med() { [ -s "$T/$1.times" ] && median < "$T/$1.times"; }
nfail() { [ -f "$T/$1.fails" ] && wc -l < "$T/$1.fails" || echo 0; }

# --- sanity: the set-up works, and the delay is there ---------------------------
# shellcheck disable=SC2086
t=$(keyfetch "$T/kf" $ALL)
if ! check "$T/kf" $ALL; then
	note "the 20 keys were not all found (exit $(cat "$T/kf.rc")):"
	cat "$T/kf" "$T/kf.err" >&2
	world_log_tail 10
	die "set-up failure"
fi
grep -q '^  dane: NOT_FOUND' "$T/kf" || [ "$KEYS_IN" = split ] ||
	{ cat "$T/kf" >&2; die "DANE did not answer NOT_FOUND"; }
note "sanity run: all $NADDR found in $(ms "$t") (warm-up, not counted)"
[ "$t" -gt $((DELAY_MS * 1000)) ] || die "the lookups took less than one delay: the proxy is not in the path"

# gpg: can it find the keys through the same servers?
USE_GPG=0
if [ "$GPG_CMP" != 1 ]; then
	GPG_WHY="not asked for (GPG_CMP=0)"
else
	t=$(gpg_locate "$T/gk" "$(addr 1)")
	if gpg_check "$T/gk" "$(addr 1)"; then
		USE_GPG=1
		note "gpg --locate-keys finds the keys too ($(ms "$t") for one, warm-up)"
	else
		GPG_WHY="gpg --locate-keys did not find the keys here: $(grep -m1 'gpg:.*error' "$T/gk.err" || head -n1 "$T/gk.err")"
		note "$GPG_WHY"
	fi
fi
DO_SEQ=$([ "$USE_GPG" = 0 ] || [ "${SEQ:-0}" = 1 ] && echo 1 || echo 0)
# the one-after-another comparisons: all 20, or in quick mode the first 2,
# scaled up to 20
# shellcheck disable=SC2086
SEQ_ADDRS=$([ "$QUICK" = 1 ] && printf '%s\n' $ALL | head -n 2 || echo $ALL)
SEQ_N=$(echo $SEQ_ADDRS | wc -w)

# --- figure 4's keyrings, made here so that they have aged by then --------------
{
	printf 'From: bench@example.com\nTo: b01@d01.example\nSubject: bench\n'
	printf 'Message-ID: <bench@example.com>\nDate: Mon, 23 Nov 2026 12:00:00 +0000\n\n'
	head -c $((10240 * 3 / 4)) /dev/urandom | base64 -w 76
} > "$T/m10k"
A1=$(addr 1)
mkdir "$T/cl" "$T/cc"
XDG_CACHE_HOME=$T/cc "$KEYFETCH" -C "$T/conf" "$A1" > "$T/kf" 2>&1 ||
	{ cat "$T/kf" >&2; die "could not fill the cache for $A1"; }
sub_local() { GNUPGHOME=$T/gl XDG_CACHE_HOME=$T/cl "$POSTSEAL" -C "$1" -i -f bench@example.com "$A1" < "$T/m10k"; }
sub_cached() { GNUPGHOME=$T/g XDG_CACHE_HOME=$T/cc "$POSTSEAL" -C "$1" -i -f bench@example.com "$A1" < "$T/m10k"; }
# both encrypt (checked once, to a sink that keeps the message), without the network
n0=$(net_uses) q0=$(world_resolver_queries) || die "the resolver's statistics"
for kind in local cached; do
	rm -f "$T/sunk"
	"sub_$kind" "$T/conf-keep" 2> "$T/sub.err" || { cat "$T/sub.err" >&2; die "submission ($kind) failed"; }
	grep -q '^Content-Type: multipart/encrypted' "$T/sunk" ||
		{ head -n 20 "$T/sunk" >&2; die "submission ($kind) was not encrypted"; }
	grep -q "$(head -c 40 < <(tail -n 1 "$T/m10k"))" "$T/sunk" &&
		die "submission ($kind): the body is in the clear"
done
n1=$(net_uses) q1=$(world_resolver_queries) || die "the resolver's statistics"
# (the keyrings are left alone from here: see figure 4)
KEYRINGS_AT=$EPOCHREALTIME

# --- figure 3: all 20 at once, one alone, and the comparisons -------------------
# uses COUNTER KIND ARGS...: run `timed KIND ARGS...`; COUNTER_DNS and
# COUNTER_HTTPS get the DNS queries and HTTPS connections that reached the
# servers (through the proxy) meanwhile
uses() {
	local v=$1 d0 h0; shift
	d0=$(dns_uses) h0=$(( $(net_uses) - $(dns_uses) ))
	timed "$@"
	printf -v "${v}_DNS" %s $(( $(dns_uses) - d0 ))
	printf -v "${v}_HTTPS" %s $(( $(net_uses) - $(dns_uses) - h0 ))
}
for ((r = 0; r < N; r++)); do
	a1=$(addr $((r % NADDR + 1)))
	if [ "$r" = 0 ]; then
		# what a lookup asks the servers once the resolver has forgotten
		# the domains: the DNS delay is in every run
		# shellcheck disable=SC2086
		uses U20 all check keyfetch "$T/kf" $ALL
		uses U1 one check keyfetch "$T/kf" "$a1"
		note "one address: $U1_DNS DNS queries and $U1_HTTPS HTTPS connections reached the servers; the 20: $U20_DNS and $U20_HTTPS"
		[ "$U1_DNS" -gt 0 ] || die "no DNS query reached the name servers: the resolver answered from its cache"
	else
		# shellcheck disable=SC2086
		timed all check keyfetch "$T/kf" $ALL
		timed one check keyfetch "$T/kf" "$a1"
	fi
	[ "$USE_GPG" = 1 ] && [ "$r" -lt "$NGPG1" ] && timed gpg1 gpg_check gpg_locate "$T/gk" "$a1"
	if [ "$r" -lt "$NRAW" ]; then
		proxy_delay off
		# shellcheck disable=SC2086
		timed rawall check keyfetch "$T/kf" $ALL
		timed rawone check keyfetch "$T/kf" "$a1"
		proxy_delay on
	fi
	if [ "$r" -lt "$NSEQ" ]; then
		# shellcheck disable=SC2086
		[ "$USE_GPG" = 1 ] && timed gpgseq gpg_check gpg_locate "$T/gk" $SEQ_ADDRS
		# shellcheck disable=SC2086
		[ "$DO_SEQ" = 1 ] && timed seq check_seq keyfetch_seq "$T/ks" $SEQ_ADDRS
	fi
done
all_med=$(med all) one_med=$(med one)
[ -n "$all_med" ] && [ -n "$one_med" ] || die "no run found every key (all: $(nfail all), one: $(nfail one) failed)"
r_all=$(ratio "$all_med" "$one_med")
met3=$(awk -v a="$all_med" -v b="$one_med" 'BEGIN {print (a <= 1.5 * b) ? "met" : "MISSED"}')
met11=$(awk -v a="$all_med" -v b="$one_med" 'BEGIN {print (a <= 1.28 * b) ? "met" : "MISSED"}')
fails=0
for k in all one gpg1 gpgseq seq rawall rawone; do fails=$((fails + $(nfail $k))); done

note "figure 3 measured"

# --- figure 4: a cached key vs a key in the local keyring ----------------------
# keyrings as they usually are: not changed in the last seconds (see run.sh);
# figure 3 took longer than that, mostly
left=$(awk -v a="$KEYRINGS_AT" -v b="$EPOCHREALTIME" 'BEGIN {l = 2.1 - (b - a); print (l > 0) ? l : 0}')
sleep "$left"
n2=$(net_uses) q2=$(world_resolver_queries) || die "the resolver's statistics"
# the issue's scenario 1: raw gpg to the same key, into the same sink
raw_gpg() {
	GNUPGHOME=$T/gl gpg --batch -q --trust-model always --armor --encrypt -r "$A1" < "$T/m10k" |
		"$T/sink" -i -f bench@example.com -- "$A1"
}
raw_gpg || die "raw gpg failed"
: > "$T/local.times"; : > "$T/cached.times"; : > "$T/rawgpg.times"
for ((r = 0; r < NSUB; r++)); do
	a=$(now_us); sub_local "$T/conf" || die "submission (local) failed"; b=$(now_us)
	echo $((b - a)) >> "$T/local.times"
	a=$(now_us); sub_cached "$T/conf" || die "submission (cached) failed"; b=$(now_us)
	echo $((b - a)) >> "$T/cached.times"
	a=$(now_us); raw_gpg; b=$(now_us)
	echo $((b - a)) >> "$T/rawgpg.times"
done
net4=$(( $(net_uses) - n2 + n1 - n0 )) q4=$(world_resolver_queries) || die "the resolver's statistics"
q4=$((q4 - q2 + q1 - q0))
note "figure 4 measured"
loc_med=$(median < "$T/local.times")
cac_med=$(median < "$T/cached.times")
raw_med=$(median < "$T/rawgpg.times")
r_sub=$(ratio "$cac_med" "$loc_med")
r_raw=$(ratio "$cac_med" "$raw_med")
r_rawl=$(ratio "$loc_med" "$raw_med")
met1=$(awk -v a="$cac_med" -v b="$raw_med" 'BEGIN {print (a <= 1.3 * b) ? "met" : "MISSED"}')
met4=$(awk -v a="$cac_med" -v b="$loc_med" 'BEGIN {print (a <= 1.05 * b) ? "met" : "MISSED"}')

# --- figure 6: cold start, the first submission after a fresh cache --------------
: > "$T/cold.times"
for ((r = 0; r < NCOLD; r++)); do
	rm -rf "$T/cold"; mkdir "$T/cold"
	flush "$A1"
	a=$(now_us)
	GNUPGHOME=$T/g XDG_CACHE_HOME=$T/cold "$POSTSEAL" -C "$T/conf" -i -f bench@example.com "$A1" < "$T/m10k" ||
		die "submission (cold) failed"
	b=$(now_us)
	echo $((b - a)) >> "$T/cold.times"
	gpgconf --homedir "$T/cold/postseal/gnupg" --kill all 2>/dev/null
done
rm -rf "$T/cold"
cold_med=$(median < "$T/cold.times")
r_cold=$(ratio "$cold_med" "$cac_med")
note "figure 6 measured"

# --- report -----------------------------------------------------------------------
if [ "$KEYS_IN" = wkd ]; then
	where="all 20 keys in WKD (advanced method: openpgpkey.dNN.example, each on
an address of its own, served by one nginx over TLS with a certificate
of a private CA); DANE is asked for each too and answers a DNSSEC-secure
NXDOMAIN (20 signed zones below a signed .example and a signed root, one
nsd)"
else
	where="b01, b03, ... b19 in DANE only (20 signed zones below a signed
.example and a signed root, one nsd), b02, b04, ... b20 in WKD only
(advanced method: openpgpkey.dNN.example, each on an address of its own,
served by one nginx over TLS with a certificate of a private CA); both
sources are asked for every address"
fi
row() { # LABEL KIND [RATIO-TEXT]
	local m
	m=$(med "$2") || return 0
	printf '| %s | %s | %s |\n' "$1" "$(ms "$m")" "${3:-}"
}
scaled() { # KIND: the median scaled from SEQ_N addresses to 20
	local m
	m=$(med "$1") || return 1
	echo $((m * NADDR / SEQ_N))
}
rows=$(
	row "postseal-keyfetch, all 20 addresses at once" all "**${r_all}x** one lookup"
	row "postseal-keyfetch, 1 address (b01 ... b$(printf %02d $((N < NADDR ? N : NADDR))))" one "1.00x"
	if [ "$USE_GPG" = 1 ] && m=$(scaled gpgseq); then
		printf '| gpg --locate-keys, the 20 addresses (one gpg)%s | %s | %sx postseal'"'"'s 20 at once |\n' \
			"$([ "$SEQ_N" != "$NADDR" ] && echo ", measured on $SEQ_N, x$((NADDR / SEQ_N))")" \
			"$(ms "$m")" "$(ratio "$m" "$all_med")"
		row "gpg --locate-keys, 1 address" gpg1 "$(ratio "$(med gpg1)" "$one_med")x postseal's 1 address"
	fi
	if [ "$DO_SEQ" = 1 ] && m=$(scaled seq); then
		printf '| postseal-keyfetch, one per address, one after another%s | %s | %sx postseal'"'"'s 20 at once |\n' \
			"$([ "$SEQ_N" != "$NADDR" ] && echo ", measured on $SEQ_N, x$((NADDR / SEQ_N))")" \
			"$(ms "$m")" "$(ratio "$m" "$all_med")"
	fi
	if [ -n "$(med rawall)" ]; then
		row "without the delay: postseal-keyfetch, all 20 at once" rawall "$(ratio "$(med rawall)" "$(med rawone)")x"
		row "without the delay: postseal-keyfetch, 1 address" rawone "1.00x"
	fi
)
if [ "$USE_GPG" = 1 ]; then
	cmp="gpg (\`--auto-key-locate $GPG_AKL\`, i.e. postseal's
sources in postseal's order; a fresh GnuPG home each run, its dirmngr started
beforehand and not counted) reaches the same servers through the same
resolver and the same delay, and trusts the same bundle."
else
	cmp="gpg --locate-keys is not measured: ${GPG_WHY:-unknown reason}.
postseal's own lookups one after another stand in for it."
fi
counts="$NSEQ for the 20 one after another"
[ "$USE_GPG" = 1 ] && counts+=", $NGPG1 for gpg with one address"
[ "$NRAW" -gt 0 ] && counts+=", $NRAW without the delay"
if [ "$net4" = 0 ] && [ "$q4" = 0 ]; then
	net4="Neither asked the network (nothing reached the resolver or the
delay proxy during these runs)."
else
	net4="The network was asked: $q4 queries reached the resolver and $net4
connections or datagrams the delay proxy during these runs."
fi
breakdown=""
if [ -n "$(med rawall)" ]; then
	breakdown="

Without the delay (the proxy passing every answer on at once; the
resolver forgets the domains all the same) the 20 take $(ms "$(med rawall)") and
one takes $(ms "$(med rawone)"): that much of the time above is work on this machine,
not waiting for answers."
fi
curlso=$(ldd "$T/bin/postseal-net.so" 2>/dev/null | awk '/libcurl/ {print $1; exit}')
case $curlso in
libcurl.so.*) curlwhy="libcurl's OpenSSL build ($curlso), which parses the CA bundle once per process" ;;
libcurl-gnutls*) curlwhy="libcurl's GnuTLS build ($curlso), which parses the whole CA bundle again for every HTTPS connection (configure chose it: no libcurl.so.4 of the OpenSSL build was found)" ;;
*) curlwhy="an unknown libcurl (${curlso:-none found})" ;;
esac
breakdown+="

The network module used $curlwhy. Where the CPU of the 20 at once goes
(perf record of postseal-keyfetch and its gpg, 2026-12-01, OpenSSL
build): gpg importing the 20 keys about a third (libgcrypt checking
their self-signatures), libunbound validating DNSSEC (nettle, GMP) about
a sixth, TLS handshakes (OpenSSL) about a fifth, the rest the kernel,
malloc and the dynamic linker. With the GnuTLS build, parsing the
145-certificate bundle for each connection was half of postseal-keyfetch's
CPU."
cat <<EOF
## 3. Key discovery: 20 recipients in 20 domains, ${DELAY_MS} ms per answer

Addresses b01@d01.example ... b20@d20.example (fresh ed25519/cv25519 keys),
$where. postseal runs with a default configuration (\`[transport]\` and
\`[default]\` with \`sources = local pinned dane wkd\`, \`lookup-timeout = 10\`;
no \`[keyfetch]\` section): it resolves every name through
/etc/resolv.conf, validates DNSSEC against /usr/share/dns/root.key and
verifies HTTPS against the system CA bundle. The bench runs in the test
world (tests/integration/lib/world.sh), a private network and mount
namespace: a validating unbound on 127.0.0.1:53 is the system resolver,
the test root's key and the test CA replace the system's files there.
Every answer of the servers is delayed by ${DELAY_MS} ms (bench/delayproxy.py:
between unbound and nsd each DNS reply, over UDP and TCP; between the
clients and nginx every server-to-client flight, so a TLS handshake plus
one request cost two delays). Before each run the resolver forgets the
domains looked up (\`unbound-control flush_zone\`; the root and .example
stay known, as on any resolver in use), so every run pays for their
delegations, DNSSEC keys and answers as a first lookup does: for one
address $U1_DNS DNS queries reached the name servers, for the 20 $U20_DNS. postseal-keyfetch
runs with an empty cache each time; medians of $N runs
($counts), alternating; every run is checked to find each address's own key.
$cmp

| | median wall time | ratio |
|---|---|---|
$rows

Target: all 20 within 1.5x one lookup's time: **$met3** (${r_all}x).
Issue #11: no worse than the lab's 1.28x (measured before this scenario
moved into the test world, with no validation and no system bundle):
**$met11** (${r_all}x).$([ "$fails" -gt 0 ] && printf '\nRuns that did not find every key (not counted): %s.' "$fails")$breakdown

## 3b. Submission with a cached key vs a key in the local keyring, and vs raw gpg (scenario 1)

A 10 KB message to b01@d01.example, \`postseal -i\` to a sink (\`exec cat
>/dev/null\`), medians of $NSUB runs each, alternating. "Cached": the user's
keyring is empty and the key was found by discovery beforehand (one
postseal-keyfetch); "local": the key is in the user's GnuPG keyring and
postseal's cache is empty. Both were checked to send PGP/MIME.
$net4

| key | median wall time | against the local key | against raw gpg |
|---|---|---|---|
| cached by discovery | $(ms "$cac_med") | **${r_sub}x** | **${r_raw}x** |
| in the local keyring | $(ms "$loc_med") | 1.00x | ${r_rawl}x |
| raw \`gpg --encrypt\` to the same key + the same sink | $(ms "$raw_med") | | 1.00x |

Target: the cache costs no more than the local keyring (5 % allowed for
noise): **$met4** (${r_sub}x).

Scenario 1 of issue #6 (a cached key, postseal and its handoff next to
raw gpg and the same handoff): target at most 1.3x: **$met1** (${r_raw}x).

## 6. Cold start: the first submission after a fresh cache

The same message to b01@d01.example with postseal's cache and keyring
empty (a new \`XDG_CACHE_HOME\` each run) and the resolver having forgotten
d01.example, so the key is discovered on the way (DANE and WKD through
the resolver and the proxy, ${DELAY_MS} ms per answer), next to the warm
case of 3b (the key cached). Medians of $NCOLD runs.

| cache | median wall time | ratio |
|---|---|---|
| cold (discovered during the submission) | $(ms "$cold_med") | ${r_cold}x |
| warm (cached) | $(ms "$cac_med") | 1.00x |
EOF
