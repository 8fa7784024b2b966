# shellcheck shell=bash
# tests/integration/lib/util.sh - helpers shared by the server libraries
# (postfix.sh, nginx.sh, dns.sh); sourced by each of them.

# lib__dir LIBNAME DIR: validate + normalise DIR (absolute, no trailing
# slash) -> stdout; errors name LIBNAME
lib__dir() {
    local lib=$1 d=$2
    if [ -z "$d" ]; then printf '%s: missing DIR argument\n' "$lib" >&2; return 2; fi
    case $d in
    /*) ;;
    *) d=$PWD/$d ;;
    esac
    while [ "${#d}" -gt 1 ] && [ "${d%/}" != "$d" ]; do d=${d%/}; done
    case $d in
    *[[:space:]]* | *[\'\"\\\$\`*?[\;{}#]*)
        printf "%s: DIR must not contain blanks, quotes, ';', braces or glob characters: %s\n" \
            "$lib" "$d" >&2
        return 2 ;;
    esac
    printf '%s\n' "$d"
}

# lib__now_ds: current time in deciseconds (integer)
lib__now_ds() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        local t=${EPOCHREALTIME/,/.}
        local s=${t%.*} f=${t#*.}
        printf '%s\n' "$(( s * 10 + 10#${f:0:1} ))"
    else
        printf '%s\n' "$(( $(date +%s) * 10 ))"
    fi
}

# lib__alive PID: the process exists and is not a zombie
lib__alive() {
    local stat
    { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    case $stat in Z* | X*) return 1 ;; esac
    return 0
}

# lib__port_busy PORT [udp]: some socket uses PORT (TCP; with "udp" also
# UDP), read from /proc/net, so a server can be given a port that is free
lib__port_busy() {
    local hex files="/proc/net/tcp /proc/net/tcp6"
    [ "${2:-}" = udp ] && files="$files /proc/net/udp /proc/net/udp6"
    hex=$(printf '%04X' "$1")
    # shellcheck disable=SC2086
    awk -v h=":$hex" 'FNR > 1 { split($2, a, ":"); if (":" a[2] == h) f = 1 } END { exit !f }' \
        $files 2>/dev/null
}

# lib__pick_port LIBNAME [EXCLUDE...]: a random free port in 20000-59999
# (not one of EXCLUDE); errors name LIBNAME
lib__pick_port() {
    local lib=$1 _ p x ok
    shift
    for _ in $(seq 1 200); do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        ok=1
        for x in "$@"; do [ "$x" = "$p" ] && ok=0; done
        [ $ok = 1 ] || continue
        lib__port_busy "$p" && continue
        printf '%s\n' "$p"
        return 0
    done
    printf '%s: no free TCP port found\n' "$lib" >&2
    return 1
}

# lib__listening PORT: true if something listens on 127.0.0.1:PORT (TCP)
lib__listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$1")
    awk -v h="$hex" 'FNR > 1 && $2 == h && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp 2>/dev/null
}

# lib__need_root WHAT: 0 as root, else 77 with "WHAT needs root" on stderr
lib__need_root() {
    [ "$(id -u)" = 0 ] && return 0
    printf 'SKIP: %s needs root (uid %s)\n' "$1" "$(id -u)" >&2
    return 77
}
