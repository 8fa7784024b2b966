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
