#!/bin/sh
# Refuse unbounded string calls in the sources (the list curl's checksrc
# bans): strcpy, strcat, sprintf, vsprintf, gets, strtok, atoi, atol,
# sscanf, system, popen. Tests and benchmarks are checked too.
top=${1:-.}
bad=$(grep -nE '(^|[^_a-zA-Z0-9])(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf|system|popen)[[:space:]]*\(' \
	"$top"/common/*.[ch] "$top"/submit/*.[ch] "$top"/keyfetch/*.[ch] \
	"$top"/policy/*.[ch] "$top"/tests/unit/*.[ch] 2>/dev/null |
	grep -vE ':[[:space:]]*(/\*|\*)')
if [ -n "$bad" ]; then
	echo "checksrc: banned calls:"
	echo "$bad"
	exit 1
fi
echo "checksrc: no banned calls"
