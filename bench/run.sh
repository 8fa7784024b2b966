#!/bin/bash
# bench/run.sh - postseal's figures, each next to its comparison measured in
# the same run, alternating. Prints a table and writes bench/results/latest.md.
#   QUICK=1   a few iterations only (CI uses it so the bench cannot rot)
# Figures (issues #2, #3, #5, #6):
#   1. one 10 KB message to one recipient with a key in the keyring:
#      postseal + exec of a sink, next to raw `gpg --encrypt` + the same sink
#   2. a keyless 10 KB message over SMTP to a local sink (Postfix's
#      smtp-sink): postseal (mode = smtp) next to msmtp
#   3. key discovery for 20 recipients in 20 domains, 100 ms per answer,
#      and a cached key next to a local-keyring key (bench/discovery.sh:
#      postseal with a default configuration in the test world of
#      tests/integration/lib/world.sh; needs root and unshare, else these
#      figures are reported as not measured)
#   4. 1, 10 and 100 MB messages: wall time next to raw gpg, and peak RSS
#      (target < 32 MB, flat)
#   5. throughput: 500 (QUICK: 100) messages from 2 concurrent clients
set -euo pipefail
: "${POSTSEAL:?}" "${SRCDIR:?}"
SRCDIR=$(cd "$SRCDIR" && pwd)
QUICK=${QUICK:-0}
N=$([ "$QUICK" = 1 ] && echo 5 || echo 31)
SIZES=$([ "$QUICK" = 1 ] && echo "1 10" || echo "1 10 100")
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

T=$(mktemp -d /tmp/ps-bench.XXXXXX)
trap 'gpgconf --homedir "$T/g" --kill all 2>/dev/null; rm -rf "$T"' EXIT
mkdir -m 700 "$T/g"
export GNUPGHOME=$T/g
gpg --batch -q --import "$SRCDIR/tests/data/keys/alice.pub.asc" 2>/dev/null
# as a real keyring is: not changed in the last seconds (postseal does not
# remember lookups in a keyring that changed within the clock's
# granularity, and a bench that always measured that case would measure
# the rare case)
sleep 2.1

# the sink both sides exec: reads the message, as an MTA's sendmail would
printf '#!/bin/sh\nexec cat > /dev/null\n' > "$T/sink"
chmod 755 "$T/sink"
printf '[transport]\nmode = sendmail\nsendmail = %s\n[default]\nsources = local\n' "$T/sink" > "$T/conf"
chmod 600 "$T/conf"

# make_msg FILE BYTES: a text message of about BYTES bytes
make_msg() {
	{
		printf 'From: bench@example.com\nTo: alice@example.org\nSubject: bench\n'
		printf 'Message-ID: <bench@example.com>\nDate: Mon, 23 Nov 2026 12:00:00 +0000\n\n'
		head -c $(( $2 * 3 / 4 )) /dev/urandom | base64 -w 76
	} > "$1"
}
make_msg "$T/m10k" 10240

run_postseal() { "$POSTSEAL" -C "$T/conf" -i -f bench@example.com alice@example.org < "$1"; }
run_gpg() {
	gpg --batch -q --trust-model always --armor --encrypt -r alice@example.org < "$1" |
		"$T/sink" -i -f bench@example.com -- alice@example.org
}
# the least any GPGME program can do: GPGME's engine probe, the
# encryption into a file, then the handoff of the whole file
run_floor() {
	gpg --version > /dev/null
	gpg --batch -q --trust-model always --armor --encrypt -r alice@example.org < "$1" > "$T/floor.asc"
	"$T/sink" -i -f bench@example.com -- alice@example.org < "$T/floor.asc"
}

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m}'; }

# warm both paths once (page cache, gpg's first start)
run_postseal "$T/m10k"; run_gpg "$T/m10k"
: > "$T/ps.times"; : > "$T/gpg.times"; : > "$T/floor.times"
for ((i = 0; i < N; i++)); do
	a=$(now_us); run_postseal "$T/m10k"; b=$(now_us); echo $((b - a)) >> "$T/ps.times"
	a=$(now_us); run_gpg "$T/m10k"; b=$(now_us); echo $((b - a)) >> "$T/gpg.times"
	a=$(now_us); run_floor "$T/m10k"; b=$(now_us); echo $((b - a)) >> "$T/floor.times"
done
ps_med=$(median < "$T/ps.times")
gpg_med=$(median < "$T/gpg.times")
floor_med=$(median < "$T/floor.times")
floor_ratio=$(awk -v a="$floor_med" -v b="$gpg_med" 'BEGIN {printf "%.2f", a / b}')
over_floor=$(awk -v a="$ps_med" -v b="$floor_med" 'BEGIN {printf "%.2f", a / b}')
ratio=$(awk -v a="$ps_med" -v b="$gpg_med" 'BEGIN {printf "%.2f", a / b}')

rss_rows=""
# runs per size: a median, alternating; the largest RSS of the runs
LRUNS=$([ "$QUICK" = 1 ] && echo 1 || echo 3)
for mb in $SIZES; do
	make_msg "$T/big" $((mb * 1024 * 1024))
	: > "$T/lps.times"; : > "$T/lgpg.times"; ps_rss=0; gpg_rss=0
	for ((r = 0; r < LRUNS; r++)); do
		a=$(now_us)
		x=$(/usr/bin/time -f %M "$POSTSEAL" -C "$T/conf" -i alice@example.org < "$T/big" 2>&1 >/dev/null | tail -n1)
		b=$(now_us)
		y=$(/usr/bin/time -f %M gpg --batch -q --trust-model always --armor --encrypt \
			-r alice@example.org -o /dev/null < "$T/big" 2>&1 | tail -n1)
		c=$(now_us)
		echo $(( (b - a) / 1000 )) >> "$T/lps.times"; echo $(( (c - b) / 1000 )) >> "$T/lgpg.times"
		[ "$x" -gt "$ps_rss" ] && ps_rss=$x
		[ "$y" -gt "$gpg_rss" ] && gpg_rss=$y
	done
	ps_ms=$(median < "$T/lps.times"); gpg_ms=$(median < "$T/lgpg.times")
	rss_rows+="| ${mb} MB message | ${ps_ms} ms | ${gpg_ms} ms | $(awk -v a="$ps_ms" -v b="$gpg_ms" 'BEGIN {printf "%.2fx", a / (b ? b : 1)}') | $((ps_rss / 1024)) MB | $((gpg_rss / 1024)) MB | $([ $((ps_rss / 1024)) -lt 32 ] && echo "met (< 32 MB)" || echo "MISSED (>= 32 MB)") |"$'\n'
done
rm -f "$T/big"

# 2. keyless plaintext over SMTP, postseal next to msmtp, same smtp-sink
smtp_rows="not measured: smtp-sink or msmtp missing"
if [ -x /usr/sbin/smtp-sink ] && command -v msmtp >/dev/null; then
	port=$(( 30000 + RANDOM % 20000 ))
	/usr/sbin/smtp-sink -u nobody 127.0.0.1:$port 100 & sink=$!
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
	printf '[transport]\nmode = smtp\nhost = 127.0.0.1\nport = %s\n[default]\nsources = local\n' "$port" > "$T/smtp.conf"
	chmod 600 "$T/smtp.conf"
	sed 's/alice@example.org/carol@example.com/' "$T/m10k" > "$T/m10k.plain"
	run_ps_smtp() { "$POSTSEAL" -C "$T/smtp.conf" -i -f bench@example.com carol@example.com < "$T/m10k.plain"; }
	run_msmtp() { msmtp --host=127.0.0.1 --port=$port --tls=off --auth=off --from=bench@example.com carol@example.com < "$T/m10k.plain"; }
	run_ps_smtp && run_msmtp || { echo "bench: SMTP warm-up failed" >&2; exit 1; }
	: > "$T/pss.times"; : > "$T/msmtp.times"
	for ((i = 0; i < N; i++)); do
		a=$(now_us); run_ps_smtp; b=$(now_us); echo $((b - a)) >> "$T/pss.times"
		a=$(now_us); run_msmtp; b=$(now_us); echo $((b - a)) >> "$T/msmtp.times"
	done
	kill "$sink" 2>/dev/null; wait "$sink" 2>/dev/null || true
	pss=$(median < "$T/pss.times"); msm=$(median < "$T/msmtp.times")
	sratio=$(awk -v a="$msm" -v b="$pss" 'BEGIN {printf "%.2f", a / b}')
	smtp_rows="| postseal, mode = smtp | $((pss / 1000)).$(printf '%03d' $((pss % 1000))) ms | **${sratio}x** as fast as msmtp $(awk -v r="$sratio" 'BEGIN {print (r >= 2) ? "(target >= 2x: met)" : "(target >= 2x: MISSED)"}') |
| msmtp $(msmtp --version | head -n1 | awk '{print $3}') | $((msm / 1000)).$(printf '%03d' $((msm % 1000))) ms | 1.00x |"
fi

# 3. key discovery (in the test world, tests/integration/lib/world.sh;
# bench/discovery.sh); exit 77: the world cannot run here (no root, no
# unshare, a server missing), which is said and never fails the bench
disc_rc=0
disc=$(bash "$SRCDIR/bench/discovery.sh" 2> "$T/discovery.err") || disc_rc=$?
if [ "$disc_rc" = 77 ]; then
	why=$(sed -n '/^discovery.sh: not measured here: /,$p' "$T/discovery.err" |
		sed '1s/^discovery.sh: not measured here: //')
	echo "bench: scenarios 3, 3b and 6 not measured here: ${why:-$(tail -n 1 "$T/discovery.err")}" >&2
	disc="## 3. Key discovery (and 3b, 6)

not measured here: ${why:-$(tail -n 1 "$T/discovery.err")}"
elif [ "$disc_rc" != 0 ]; then
	disc="## 3. Key discovery

not measured: bench/discovery.sh failed: $(tail -n 3 "$T/discovery.err")"
fi

# 5. throughput: messages from 2 concurrent clients, keys in the keyring
TN=$([ "$QUICK" = 1 ] && echo 100 || echo 500)
TRUNS=$([ "$QUICK" = 1 ] && echo 1 || echo 3)
: > "$T/tput.times"
for ((r = 0; r < TRUNS; r++)); do
	a=$(now_us)
	seq "$TN" | xargs -P 2 -I{} sh -c '"$0" -C "$1" -i -f bench@example.com alice@example.org < "$2"' "$POSTSEAL" "$T/conf" "$T/m10k"
	b=$(now_us)
	echo $((b - a)) >> "$T/tput.times"
done
tus=$(median < "$T/tput.times")
tput=$(awk -v n="$TN" -v us="$tus" 'BEGIN {printf "%.1f", n / (us / 1e6)}')
per=$(awk -v n="$TN" -v us="$tus" 'BEGIN {printf "%.1f", 2 * us / n / 1000}')

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
report=$(cat <<EOF2
# postseal benchmark

- date: $(date -u '+%Y-%m-%d %H:%M UTC'), postseal $("$POSTSEAL" --version | awk '{print $2}')
- machine: $(nproc) cores, ${cpu:-unknown CPU}; $(gpg --version | head -n1)
- mode: $([ "$QUICK" = 1 ] && echo "quick ($N runs)" || echo "full ($N runs)"), postseal and its comparison alternating

## 1. 10 KB message, one recipient with a key in the keyring

| | median wall time | ratio |
|---|---|---|
| postseal + exec of the sink | $((ps_med / 1000)).$(printf '%03d' $((ps_med % 1000))) ms | **${ratio}x** of raw gpg |
| raw \`gpg --encrypt\` + the same sink | $((gpg_med / 1000)).$(printf '%03d' $((gpg_med % 1000))) ms | 1.00x |
| floor for a GPGME program: \`gpg --version\`, then \`gpg --encrypt\` into a file, then the sink | $((floor_med / 1000)).$(printf '%03d' $((floor_med % 1000))) ms | ${floor_ratio}x (postseal: ${over_floor}x of it) |

Target: at most 1.3x raw gpg: **$(awk -v r="$ratio" 'BEGIN {print (r <= 1.3) ? "met" : "MISSED"}')** (${ratio}x).
The third row is what any program doing its cryptography through GPGME
and handing off only whole copies must spend at least: GPGME runs
\`gpg --version\` in every process before the first operation, and the
copy goes to the MTA after it is encrypted, not while. While postseal
uses GPGME (CONVENTIONS.md) the 1.3x target is below that floor.

With a cached key (the issue's own scenario 1), see 3b below: the same
path, with the key in postseal's keyring instead of the user's.

Where the difference goes (perf record -a over 40 submissions, samples
by process, idle excluded): gpg 48 %, postseal 33 %, the sink 14 %, the
shell 4 %. Raw gpg starts once; postseal starts it twice: GPGME's engine
probe (\`gpg --version\`, which GPGME runs for every process and which
cannot be turned off) and the encryption. Most of postseal's own share is
the kernel creating processes (GPGME forks twice per gpg run) and the
dynamic linker (9 shared libraries: GPGME and its two, nettle, sqlite,
libc). What has been removed (issue #6): the key listing (lookups are
remembered under the keyring's stamp and encryption is by fingerprint),
a second engine probe for postseal's own keyring, and 33 shared
libraries (the network code is a module loaded only when needed, and
libetpan's parsers are linked in). What remains is one gpg start more
than raw gpg, and the handoff after, not during, the encryption (a
copy is handed to the MTA only whole, so that nothing is half-sent).

## 2. Keyless 10 KB message over SMTP to a local sink (smtp-sink)

| | median wall time | ratio |
|---|---|---|
${smtp_rows}

${disc}

## 4. Large messages: wall time and peak RSS

Medians of ${LRUNS} runs per size, alternating; RSS is the largest of them.

postseal's own maximum resident set (GPGME starts gpg as a detached
grandchild, which is not counted here; the gpg doing the same work is the
"raw gpg" column).

| message | postseal | raw gpg | ratio | postseal RSS | raw gpg RSS | RSS target |
|---|---|---|---|---|---|---|
${rss_rows}
## 5. Throughput: ${TN} messages (10 KB, key in the keyring), 2 concurrent clients

The median of ${TRUNS} batches.

| messages per second | wall time per message per client | against scenario 1 | target |
|---|---|---|---|
| ${tput} msg/s | ${per} ms | $(awk -v p="$per" -v m="$ps_med" 'BEGIN {printf "%.2fx", p * 1000 / m}') | $(awk -v t="$tput" 'BEGIN {print (t >= 50) ? "met (>= 50 msg/s)" : "MISSED (< 50 msg/s)"}') |

EOF2
)
echo "$report"
mkdir -p "$SRCDIR/bench/results"
echo "$report" > "$SRCDIR/bench/results/latest.md"
