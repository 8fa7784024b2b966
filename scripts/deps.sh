# shellcheck shell=bash
# scripts/deps.sh - the Debian 12 packages postseal needs, installed when
# missing. Sourced by scripts/demo and scripts/check.

PS_BUILD_PKGS="gcc make pkg-config ca-certificates libgpgme-dev libcurl4-gnutls-dev libcurl4 libetpan-dev
 libunbound-dev libsqlite3-dev libcmocka-dev nettle-dev libgnutls28-dev libidn2-dev"
# what the demo runs: real GnuPG, a private Postfix, mutt as the client
PS_DEMO_PKGS="gnupg postfix mutt python3 dns-root-data"
# what the tests add: independent OpenPGP readers, git send-email;
# CPython's email test messages (t_differential's corpus)
PS_TEST_PKGS="$PS_DEMO_PKGS rnp sq git git-email libmailtools-perl time clang libclang-rt-14-dev
 nginx openssl nsd unbound ldnsutils sks swaks libnet-ssleay-perl python3-aiosmtpd msmtp
 iproute2 util-linux procps strace libpython3.11-testsuite"

ps_need_root() {
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null; then
			echo "postseal: re-running as root with sudo (needed for apt-get and the private Postfix)" >&2
			exec sudo -E "$0" "$@"
		fi
		echo "postseal: run this as root: it installs Debian packages and starts a private Postfix" >&2
		exit 1
	fi
}

# ps_install PKG...: install the packages that are not installed yet
ps_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "postseal: installing Debian packages: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Postfix is only used as private test instances; configure the
	# system one for local mail only so that it never sends anything out.
	echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
	echo "postfix postfix/mailname string localhost" | debconf-set-selections
	apt-get update -qq || return 1
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
	# The tests run private nginx instances on loopback; the package's own
	# default site (port 80, every address) is not wanted.
	# The same for nsd and unbound (port 53) and sks (11371): the tests run
	# their own on loopback (unbound as the resolver of a private network
	# namespace, never the machine's).
	local svc
	for svc in nginx nsd unbound sks; do
		if [[ " ${missing[*]} " == *" $svc "* ]] && [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
			# unbound's helper would point resolv.conf at it
			[ "$svc" = unbound ] &&
				{ systemctl disable --now unbound-resolvconf >/dev/null 2>&1 || true; }
			echo "postseal: stopped and disabled the system $svc the package started" >&2
		fi
	done
}

# ps_build [configure args]: configure (if needed) and build
ps_build() {
	if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ Makefile.in -nt Makefile ]; then
		./configure "$@" > build.log 2>&1 || { cat build.log >&2; return 1; }
	fi
	make -s postseal >> build.log 2>&1 || { tail -40 build.log >&2; return 1; }
}
