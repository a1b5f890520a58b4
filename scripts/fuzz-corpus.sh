#!/usr/bin/env bash
# Grow the committed fuzz corpus of one or more targets.
#
#   scripts/fuzz-corpus.sh [-t 500000x] [-k 32] PKG:FuzzName...
#
# Each target is fuzzed for -t executions (default 500000x; a count, not a
# duration: Go 1.26's fuzz coordinator can fail a duration-bounded run at its
# deadline, golang/go#75804), then up to -k (default 32)
# entries of what the fuzzer found interesting are copied from Go's fuzz
# cache into PKG/testdata/fuzz/FuzzName, spread over the entries' sizes so
# that both small and large inputs are kept. `go test` replays the committed
# entries as seeds on every run, so a decoder change that breaks one fails in
# plain `go test`, without fuzzing. A failing input the fuzzer finds is written
# there by Go itself and the script stops: fix the bug, keep the input.
set -euo pipefail

fuzztime=500000x
keep=32
while getopts "t:k:" opt; do
	case $opt in
	t) fuzztime=$OPTARG ;;
	k) keep=$OPTARG ;;
	*) echo "usage: $0 [-t 500000x] [-k 32] PKG:FuzzName..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	echo "usage: $0 [-t 500000x] [-k 32] PKG:FuzzName..." >&2
	exit 2
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
module=$(go list -m)
cache="$(go env GOCACHE)/fuzz"

for target in "$@"; do
	pkg=${target%%:*}
	name=${target#*:}
	pkg=${pkg#./}
	echo "==> fuzz $pkg $name for $fuzztime"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$pkg"
	src="$cache/$module/$pkg/$name"
	dst="$pkg/testdata/fuzz/$name"
	if [ ! -d "$src" ]; then
		echo "no cached corpus in $src" >&2
		continue
	fi
	mkdir -p "$dst"
	# Sort by size and take every n-th entry so the sample spans the sizes.
	mapfile -t entries < <(find "$src" -type f -printf '%s %p\n' | sort -n | cut -d' ' -f2-)
	total=${#entries[@]}
	step=$(((total + keep - 1) / keep))
	[ "$step" -lt 1 ] && step=1
	copied=0
	for ((i = 0; i < total && copied < keep; i += step)); do
		cp "${entries[$i]}" "$dst/"
		copied=$((copied + 1))
	done
	echo "    kept $copied of $total entries in $dst"
done
