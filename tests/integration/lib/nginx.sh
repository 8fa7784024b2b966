# shellcheck shell=bash
#
# tests/integration/lib/nginx.sh - run a PRIVATE nginx serving HTTPS on
# 127.0.0.1 for the Web Key Directory (WKD) tests of postseal.  Source this
# file from a bash test script.
#
# The instance lives entirely below one directory DIR and never uses the
# Debian default configuration (/etc/nginx, the port-80 default site,
# /var/log/nginx, /var/lib/nginx, /run/nginx.pid): it runs as
#   nginx -e DIR/error.log -p DIR/ -c DIR/nginx.conf
# and listens on 127.0.0.1 ONLY (three ports, nothing else):
#
#   DIR/ca/ca.pem, ca.key             throwaway CA (ng_ca)
#   DIR/ca/good.pem, good.key         server cert signed by the CA (ng_ca)
#   DIR/ca/bad.pem, bad.key           SELF-SIGNED cert, same names (ng_ca)
#   DIR/nginx.conf, DIR/common.conf   configuration (ng_start)
#   DIR/nginx.pid                     pid file of the master
#   DIR/error.log, DIR/access.log     logs (access.log: one line a request,
#                                     "$host:$server_port \"$request\" $status")
#   DIR/tmp/                          all temp paths
#   DIR/www/<host>/...                document roots, chosen by $host
#   DIR/port, DIR/bad_port, DIR/http_port   the ports in use
#
# Functions (all return 77 = automake "skip", with a one-line reason on
# stderr, when not running as root or when nginx/openssl is missing):
#
#   ng_ca DIR [EXTRA_NAME...]      make CA + good cert + bad self-signed cert
#                                  for NG_NAMES (+ extra names); prints the
#                                  CA file DIR/ca/ca.pem.  ng_start calls it
#                                  itself when DIR/ca/good.pem is missing.
#   ng_start DIR [PORT]            write the config, start, wait until all
#                                  ports answer.  Prints the HTTPS (good
#                                  cert) port.  Sets NG_PORT, NG_BAD_PORT,
#                                  NG_HTTP_PORT when not run in a subshell;
#                                  always writes them to DIR/port etc.
#   ng_port DIR [good|bad|http]    print a port of the (started) instance
#   ng_put_key DIR HOST PATH FILE  copy FILE to DIR/www/HOST/PATH (dirs
#                                  created); also creates the empty WKD
#                                  policy file that belongs to PATH if missing
#   ng_host_mode DIR HOST MODE     make EVERY request for HOST behave as
#                                  MODE: normal | redirect-https |
#                                  redirect-http | slow | err500 | err404
#                                  (a marker file, no reload needed)
#   ng_url DIR HOST PATH [good|bad|http]   print the URL of PATH on HOST
#   ng_curl_resolve DIR            print the curl --resolve options for all
#                                  names on all three ports
#   ng_stop DIR                    stop this instance (by its pid file),
#                                  wait (bounded) until no process is left
#   ng_log_tail DIR [N]            last N lines of error.log + access.log
#
# Ports: ng_start DIR PORT uses PORT for the good-cert HTTPS listener; the
# bad-cert HTTPS port and the plain-HTTP port come from NG_BAD_PORT and
# NG_HTTP_PORT when set, else they (and PORT when not given) are picked at
# random in 20000-59999 among ports that have no TCP socket in
# /proc/net/tcp.  When nginx cannot bind (a race with another program) and
# the ports were picked automatically, ng_start picks new ones and retries
# (up to 5 times).
#
# Location rules (same on all three ports; <rest> keeps the query string):
#   /redirect-https/<rest>  302 -> https://$host:PORT/<rest>  (same server)
#   /redirect-http/<rest>   302 -> http://$host:HTTP_PORT/<rest> (plain HTTP
#                           listener of this instance serving the same files,
#                           so a client that follows the downgrade is seen in
#                           access.log instead of failing to connect)
#   /slow/<rest>            serves /<rest>, but the WHOLE response (status
#                           line and headers included) trickles out at
#                           NG_SLOW_RATE bytes/s (default 1) via limit_rate:
#                           stock nginx cannot sleep before answering, but at
#                           1 byte/s even the status line takes ~15 s, so a
#                           client timeout fires while waiting for headers.
#   /err500/<rest>          500
#   /pks/<rest>             only when NG_PKS_UPSTREAM (HOST:PORT) is set at
#                           ng_start: proxied to that plain-HTTP HKP server
#                           (SKS in tests), i.e. HKP over verified TLS
#   everything else         static file DIR/www/$host/<uri>
#                           (default_type application/octet-stream), 404
#                           when missing
# WKD clients build the URL path themselves, so a prefix rule cannot be
# used by postseal directly: use ng_host_mode for that.  In host mode
# redirect-https/redirect-http, every request for HOST is answered with a
# 302 to the SAME URI on NG_REDIRECT_HOST (keys.example.test) on the good
# HTTPS port resp. the plain-HTTP port, so put the target file under
# DIR/www/keys.example.test/<same path>.
#
# Typical use:
#   . "$srcdir/lib/nginx.sh"
#   NG=$(mktemp -d /tmp/ps-ng.XXXX) || exit 99
#   trap 'ng_stop "$NG"; rm -rf "$NG"' EXIT
#   CA=$(ng_ca "$NG") || exit $?
#   ng_start "$NG" >/dev/null || exit $?      # sets NG_PORT etc.
#   ng_put_key "$NG" openpgpkey.example.org \
#       .well-known/openpgpkey/example.org/hu/<zbase32> alice.pgp
#   curl --cacert "$CA" $(ng_curl_resolve "$NG") \
#       "https://openpgpkey.example.org:$NG_PORT/.well-known/openpgpkey/example.org/hu/<zbase32>"
#
# Privileges: the master runs as root (it must, to be a private instance
# that writes nothing outside DIR); the workers run as NG_USER (default
# root, so that files in DIR/www are readable whatever the modes of DIR's
# parents are; set NG_USER=nobody to drop privileges - then DIR and its
# parents must be traversable and the files readable by nobody).
#
# Verified by experiment (Debian 12, nginx 1.22.1 from "nginx"/"nginx-light";
# nginx-light only adds the echo module, which this config does NOT load -
# it includes nothing from /etc/nginx, so plain "nginx" suffices):
#   * the instance runs with /etc/nginx, /var/log/nginx, /var/lib/nginx,
#     /run and /usr/share/nginx all read-only (private mount namespace);
#     "-e DIR/error.log" keeps even the pre-config startup log in DIR.
#   * installing the package in a container with the usual policy-rc.d
#     (exit 101) does not start the Debian default site on port 80.
#   * timings: ng_ca ~0.1 s (EC P-256 keys), ng_start ~0.1-0.3 s, ng_stop
#     ~0.1 s.  nginx itself retries a failed bind() 5 times 0.5 s apart, so
#     ng_start checks /proc/net/tcp first and fails at once for a busy
#     PORT given by the caller (auto-picked ports are re-picked instead).
#   * after ng_stop the master can stay a zombie ("[nginx] <defunct>") for a
#     moment: it was daemonised, so its parent is PID 1, which in some
#     containers reaps late.  Zombies count as gone here (no sockets, ports
#     free).
#   * /slow/: curl --max-time 2 gets 0 bytes and exits 28; the TLS
#     handshake itself is NOT slowed.
# ----------------------------------------------------------------------------

# shellcheck source=util.sh
. "$(dirname "${BASH_SOURCE[0]}")/util.sh"

NG_NAMES=${NG_NAMES:-"openpgpkey.example.org example.org openpgpkey.example.net example.net openpgpkey.example.com example.com keys.example.test"}
NG_REDIRECT_HOST=${NG_REDIRECT_HOST:-keys.example.test}
NG_NGINX=${NG_NGINX:-/usr/sbin/nginx}
NG_OPENSSL=${NG_OPENSSL:-openssl}
NG_USER=${NG_USER:-root}
NG_SLOW_RATE=${NG_SLOW_RATE:-1}

# ---------------------------------------------------------------- helpers

ng__err() { printf 'nginx.sh: %s\n' "$*" >&2; }

# ng__check: 0 if usable, else 77 with a one-line reason on stderr.
ng__check() {
    lib__need_root 'private nginx instance' || return 77
    if [ ! -x "$NG_NGINX" ]; then
        printf 'SKIP: nginx is not installed (%s missing; apt-get install nginx)\n' "$NG_NGINX" >&2
        return 77
    fi
    if ! command -v "$NG_OPENSSL" >/dev/null 2>&1; then
        printf 'SKIP: openssl is not installed\n' >&2
        return 77
    fi
    return 0
}

# ng__dir DIR: validate + normalise DIR (absolute, no trailing slash)
ng__dir() { lib__dir nginx.sh "$1"; }

# ng__now_ds: current time in deciseconds (integer)
ng__now_ds() { lib__now_ds; }

# ng__alive PID: true if PID exists and is not a zombie
ng__alive() { lib__alive "$1"; }

# ng__is_nginx PID: PID runs the nginx binary (guards against pid reuse)
ng__is_nginx() {
    local exe
    exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
    exe=${exe% (deleted)}
    [ "$exe" = "$(readlink -f "$NG_NGINX")" ]
}

# ng__master_pid DIR: pid of the running master of this instance, or fail
ng__master_pid() {
    local pid
    { read -r pid < "$1/nginx.pid"; } 2>/dev/null || return 1
    pid=${pid//[!0-9]/}
    [ -n "$pid" ] || return 1
    ng__alive "$pid" || return 1
    ng__is_nginx "$pid" || return 1
    # the master of THIS instance has "-c DIR/nginx.conf" on its command line
    # (the master rewrites its argv into one string; match at a word end)
    case " $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) " in
    *" -c $1/nginx.conf "*) ;;
    *) return 1 ;;
    esac
    printf '%s\n' "$pid"
}

# ng__instance_pids DIR: master + its (nginx) children, live ones only
ng__instance_pids() {
    local m p
    m=$(ng__master_pid "$1") || return 0
    printf '%s\n' "$m"
    for p in $(pgrep -P "$m" 2>/dev/null); do
        ng__alive "$p" && ng__is_nginx "$p" && printf '%s\n' "$p"
    done
}

# ng__port_busy PORT: true if any TCP socket (v4/v6, any state) uses PORT
ng__port_busy() { lib__port_busy "$1"; }

# ng__pick_port [EXCLUDE...]: a random port without any TCP socket
ng__pick_port() { lib__pick_port nginx.sh "$@"; }

# ng__listening PORT: true if something listens on 127.0.0.1:PORT
ng__listening() { lib__listening "$1"; }

ng_log_tail() {
    local d n=${2:-30} f
    d=$(ng__dir "$1") || return 2
    for f in "$d/error.log" "$d/access.log"; do
        if [ -s "$f" ]; then
            printf -- '--- last %s lines of %s ---\n' "$n" "$f" >&2
            tail -n "$n" "$f" >&2
        else
            printf -- '--- %s is empty or missing ---\n' "$f" >&2
        fi
    done
}

# ---------------------------------------------------------------- ng_ca

ng_ca() {
    ng__check || return $?
    local d c names n san i out
    d=$(ng__dir "$1") || return 2
    shift
    names="$NG_NAMES $*"
    c=$d/ca
    mkdir -p "$c" || return 1
    chmod 0755 "$d" "$c" 2>/dev/null
    san="" i=0
    for n in $names; do
        san="${san:+$san,}DNS:$n"
        i=$((i + 1))
    done
    san="$san,IP:127.0.0.1"
    out=$(
        set -e
        cd "$c"
        # CA: 10 years, EC P-256 (fast)
        "$NG_OPENSSL" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout ca.key -out ca.pem -days 3650 -subj "/CN=postseal test CA $$" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" 2>&1
        # good server certificate, signed by the CA
        "$NG_OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout good.key -out good.csr -subj "/CN=openpgpkey.example.org" 2>&1
        printf '%s\n' "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=$san" \
            "authorityKeyIdentifier=keyid" > good.ext
        "$NG_OPENSSL" x509 -req -in good.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out good.pem -days 3650 -extfile good.ext 2>&1
        # bad certificate: SELF-SIGNED, same names
        "$NG_OPENSSL" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout bad.key -out bad.pem -days 3650 -subj "/CN=openpgpkey.example.org" \
            -addext "subjectAltName=$san" \
            -addext "extendedKeyUsage=serverAuth" 2>&1
        chmod 0644 ca.pem good.pem bad.pem
        chmod 0600 ca.key good.key bad.key
    ) || {
        ng__err "openssl failed in $c:"
        printf '%s\n' "$out" >&2
        return 1
    }
    printf '%s\n' "$names" > "$c/names"
    printf '%s\n' "$c/ca.pem"
}

# ---------------------------------------------------------------- ng_start

ng__write_config() {
    local d=$1 port=$2 bad=$3 http=$4 group
    # nginx's default group is "nobody", which Debian does not have
    group=$(id -gn "$NG_USER" 2>/dev/null) || { ng__err "unknown NG_USER '$NG_USER'"; return 1; }
    cat > "$d/common.conf" <<EOF || return 1
# locations shared by all listeners (generated by nginx.sh - do not edit)
root $d/www/\$host;
types { }
default_type application/octet-stream;
charset off;
autoindex off;
etag off;
server_tokens off;

# per-host behaviour, switched by marker files (ng_host_mode)
set \$ng_rate 0;
if (-f $d/www/\$host.ng-mode-slow) { set \$ng_rate $NG_SLOW_RATE; }
limit_rate \$ng_rate;
location / {
    if (-f $d/www/\$host.ng-mode-err500) { return 500; }
    if (-f $d/www/\$host.ng-mode-err404) { return 404; }
    if (-f $d/www/\$host.ng-mode-redirect-https) {
        return 302 https://$NG_REDIRECT_HOST:$port\$request_uri;
    }
    if (-f $d/www/\$host.ng-mode-redirect-http) {
        return 302 http://$NG_REDIRECT_HOST:$http\$request_uri;
    }
}

# path prefix rules
location ~ ^/redirect-https/(.*)\$ {
    return 302 https://\$host:$port/\$1\$is_args\$args;
}
location ~ ^/redirect-http/(.*)\$ {
    return 302 http://\$host:$http/\$1\$is_args\$args;
}
location /err500/ {
    return 500;
}
location /slow/ {
    limit_rate $NG_SLOW_RATE;
    rewrite ^/slow(/.*)\$ \$1 break;
}
EOF
    # an HKP keyserver behind TLS, as the public ones are run
    if [ -n "${NG_PKS_UPSTREAM:-}" ]; then
        printf 'location /pks/ {\n    proxy_pass http://%s;\n}\n' "$NG_PKS_UPSTREAM" \
            >> "$d/common.conf" || return 1
    fi
    cat > "$d/nginx.conf" <<EOF || return 1
# Private nginx for the postseal WKD tests (generated by nginx.sh - do not
# edit).  Listens on 127.0.0.1 only; run as
#   nginx -e $d/error.log -p $d/ -c $d/nginx.conf
user $NG_USER $group;
daemon on;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
lock_file $d/nginx.lock;

events {
    worker_connections 64;
}

http {
    log_format ng '\$host:\$server_port "\$request" \$status \$body_bytes_sent';
    access_log $d/access.log ng;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    sendfile off;
    keepalive_timeout 5;
    server_names_hash_bucket_size 128;

    # good certificate (signed by $d/ca/ca.pem)
    server {
        listen 127.0.0.1:$port ssl default_server;
        server_name _;
        ssl_certificate $d/ca/good.pem;
        ssl_certificate_key $d/ca/good.key;
        include $d/common.conf;
    }

    # bad, self-signed certificate for the same names
    server {
        listen 127.0.0.1:$bad ssl default_server;
        server_name _;
        ssl_certificate $d/ca/bad.pem;
        ssl_certificate_key $d/ca/bad.key;
        include $d/common.conf;
    }

    # plain HTTP (target of /redirect-http/ and host mode redirect-http)
    server {
        listen 127.0.0.1:$http default_server;
        server_name _;
        include $d/common.conf;
    }
}
EOF
    chmod 0644 "$d/nginx.conf" "$d/common.conf"
}

# ng__make_www DIR: document roots + empty policy files for NG_NAMES
ng__make_www() {
    local d=$1 n
    for n in $NG_NAMES; do
        case $n in
        openpgpkey.*)
            mkdir -p "$d/www/$n/.well-known/openpgpkey/${n#openpgpkey.}/hu" || return 1
            [ -e "$d/www/$n/.well-known/openpgpkey/${n#openpgpkey.}/policy" ] ||
                : > "$d/www/$n/.well-known/openpgpkey/${n#openpgpkey.}/policy" ;;
        *)
            mkdir -p "$d/www/$n/.well-known/openpgpkey/hu" || return 1
            [ -e "$d/www/$n/.well-known/openpgpkey/policy" ] ||
                : > "$d/www/$n/.well-known/openpgpkey/policy" ;;
        esac
    done
}

ng_start() {
    ng__check || return $?
    local d port=${2:-} bad=${NG_BAD_PORT:-} http=${NG_HTTP_PORT:-} auto=0 try out rc p failed
    local start deadline now master
    d=$(ng__dir "$1") || return 2
    case $port in ''|[1-9]*) ;; *) ng__err "ng_start: bad PORT '$port'"; return 2 ;; esac

    if ng__master_pid "$d" >/dev/null 2>&1; then
        ng__err "an instance is already running in $d"
        return 1
    fi
    mkdir -p "$d" "$d/www" "$d/tmp" || return 1
    chmod 0755 "$d" "$d/www" "$d/tmp" || return 1
    if [ ! -s "$d/ca/good.pem" ] || [ ! -s "$d/ca/bad.pem" ]; then
        ng_ca "$d" >/dev/null || return $?
    fi
    ng__make_www "$d" || { ng__err "cannot create $d/www"; return 1; }
    : > "$d/error.log" && : > "$d/access.log" || return 1

    [ -z "$port" ] || [ -z "$bad" ] || [ -z "$http" ] && auto=1
    for p in $port $bad $http; do
        if ng__port_busy "$p"; then
            ng__err "ng_start: port $p is already in use"
            return 1
        fi
    done
    start=$(ng__now_ds)
    for try in 1 2 3 4 5; do
        [ -n "${2:-}" ] || port=$(ng__pick_port) || return 1
        [ -n "${NG_BAD_PORT:-}" ] || bad=$(ng__pick_port "$port") || return 1
        [ -n "${NG_HTTP_PORT:-}" ] || http=$(ng__pick_port "$port" "$bad") || return 1
        ng__write_config "$d" "$port" "$bad" "$http" ||
            { ng__err "cannot write configuration in $d"; return 1; }
        rm -f "$d/nginx.pid"
        # nginx retries a failed bind() 5 times, 0.5 s apart; the parent
        # exits once the daemonised master has opened everything.
        out=$(timeout "${NG_START_TIMEOUT:-20}" "$NG_NGINX" -e "$d/error.log" -p "$d/" \
            -c "$d/nginx.conf" 2>&1 </dev/null)
        rc=$?
        [ $rc -eq 0 ] && break
        # retry with new ports only when nginx could not bind one we picked
        failed=$(printf '%s\n' "$out" | sed -n 's/.*bind() to 127\.0\.0\.1:\([0-9]*\) failed (98.*/\1/p' | head -n 1)
        if [ $auto = 1 ] && [ $try -lt 5 ] && [ -n "$failed" ] &&
           [ "$failed" != "${2:-}" ] && [ "$failed" != "${NG_BAD_PORT:-}" ] &&
           [ "$failed" != "${NG_HTTP_PORT:-}" ]; then
            continue
        fi
        ng__err "'nginx -c $d/nginx.conf' failed (exit $rc)"
        [ -n "$out" ] && printf '%s\n' "$out" >&2
        ng_log_tail "$d" 10
        ng_stop "$d" >/dev/null 2>&1
        return 1
    done

    deadline=$(( start + ${NG_START_TIMEOUT:-20} * 10 ))
    while :; do
        if master=$(ng__master_pid "$d") && pgrep -P "$master" >/dev/null 2>&1 &&
           ng__listening "$port" && ng__listening "$bad" && ng__listening "$http"; then
            break
        fi
        now=$(ng__now_ds)
        if [ "$now" -ge "$deadline" ]; then
            ng__err "nginx in $d did not come up within ${NG_START_TIMEOUT:-20}s (master: ${master:-none})"
            ng_log_tail "$d" 10
            ng_stop "$d" >/dev/null 2>&1
            return 1
        fi
        sleep 0.05
    done
    echo "$port" > "$d/port"
    echo "$bad" > "$d/bad_port"
    echo "$http" > "$d/http_port"
    # shellcheck disable=SC2034  # for the caller
    NG_PORT=$port NG_BAD_PORT=$bad NG_HTTP_PORT=$http
    printf '%s\n' "$port"
}

# ng_port DIR [good|bad|http]
ng_port() {
    local d f
    d=$(ng__dir "$1") || return 2
    case ${2:-good} in
    good) f=port ;; bad) f=bad_port ;; http) f=http_port ;;
    *) ng__err "ng_port: unknown kind '$2'"; return 2 ;;
    esac
    [ -s "$d/$f" ] || { ng__err "no $f in $d (ng_start not run?)"; return 1; }
    cat "$d/$f"
}

# ng_url DIR HOST PATH [good|bad|http]
ng_url() {
    local p scheme=https path=${3#/}
    p=$(ng_port "$1" "${4:-good}") || return $?
    [ "${4:-good}" = http ] && scheme=http
    printf '%s://%s:%s/%s\n' "$scheme" "$2" "$p" "$path"
}

# ng_curl_resolve DIR: --resolve options for all names and ports
ng_curl_resolve() {
    local d n p names
    d=$(ng__dir "$1") || return 2
    names=$NG_NAMES
    [ -s "$d/ca/names" ] && names=$(cat "$d/ca/names")
    for p in $(ng_port "$d" good) $(ng_port "$d" bad) $(ng_port "$d" http); do
        for n in $names; do printf -- '--resolve %s:%s:127.0.0.1 ' "$n" "$p"; done
    done
    echo
}

# ---------------------------------------------------------------- content

# ng_put_key DIR HOST PATH FILE
ng_put_key() {
    local d host=$2 path=${3#/} file=$4 dst rest dom
    d=$(ng__dir "$1") || return 2
    case $host in ''|*/*|.*|*..*) ng__err "ng_put_key: bad HOST '$host'"; return 2 ;; esac
    case /$path/ in */../*|*/./*|//) ng__err "ng_put_key: bad PATH '$3'"; return 2 ;; esac
    [ -r "$file" ] || { ng__err "ng_put_key: cannot read $file"; return 1; }
    dst=$d/www/$host/$path
    mkdir -p "${dst%/*}" || return 1
    cp -- "$file" "$dst" || return 1
    chmod 0644 "$dst"
    # the policy file of the WKD method this path belongs to
    case $path in
    .well-known/openpgpkey/hu/*)
        [ -e "$d/www/$host/.well-known/openpgpkey/policy" ] ||
            : > "$d/www/$host/.well-known/openpgpkey/policy" ;;
    .well-known/openpgpkey/*/hu/*)
        rest=${path#.well-known/openpgpkey/}; dom=${rest%%/*}
        [ -e "$d/www/$host/.well-known/openpgpkey/$dom/policy" ] ||
            : > "$d/www/$host/.well-known/openpgpkey/$dom/policy" ;;
    esac
    return 0
}

# ng_host_mode DIR HOST MODE
ng_host_mode() {
    local d host=$2 m
    d=$(ng__dir "$1") || return 2
    case $host in ''|*/*|.*|*..*) ng__err "ng_host_mode: bad HOST '$host'"; return 2 ;; esac
    case $3 in
    normal | redirect-https | redirect-http | slow | err500 | err404) ;;
    *) ng__err "ng_host_mode: unknown MODE '$3'"; return 2 ;;
    esac
    mkdir -p "$d/www" || return 1
    for m in redirect-https redirect-http slow err500 err404; do
        rm -f "$d/www/$host.ng-mode-$m"
    done
    [ "$3" = normal ] || : > "$d/www/$host.ng-mode-$3"
}

# ---------------------------------------------------------------- ng_stop

ng_stop() {
    ng__check || return $?
    local d master pids p deadline now left
    d=$(ng__dir "$1") || return 2
    master=$(ng__master_pid "$d") || return 0
    pids=$(ng__instance_pids "$d")
    # TERM = fast shutdown (QUIT would wait for open keep-alive connections)
    kill -TERM "$master" 2>/dev/null
    deadline=$(( $(ng__now_ds) + ${NG_STOP_TIMEOUT:-10} * 10 ))
    while :; do
        left=""
        for p in $pids; do
            ng__alive "$p" && ng__is_nginx "$p" && left="$left $p"
        done
        [ -z "$left" ] && break
        now=$(ng__now_ds)
        if [ "$now" -ge "$deadline" ]; then
            ng__err "nginx processes of $d did not exit, killing:$left"
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null
            sleep 0.2
            for p in $left; do
                if ng__alive "$p" && ng__is_nginx "$p"; then
                    ng__err "nginx process $p of $d still running"
                    return 1
                fi
            done
            break
        fi
        sleep 0.05
    done
    rm -f "$d/nginx.pid"
    return 0
}
