#!/bin/sh
# Regenerate configure and config.h.in (both are committed; users do not
# need this). Needs autoconf, automake (for aclocal) and pkg-config.
set -e
cd "$(dirname "$0")"
aclocal
autoheader
autoconf
rm -rf autom4te.cache configure~ config.h.in~
