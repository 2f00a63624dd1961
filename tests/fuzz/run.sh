#!/bin/sh
# run.sh - runs the libFuzzer targets the Makefile builds in build/fuzz/.
#
#   sh tests/fuzz/run.sh fuzz SECONDS NAME...
#	Fuzzes each target for SECONDS, starting from its seeds
#	(tests/fuzz/corpus/NAME) and its regressions
#	(tests/fuzz/regressions/NAME).  New inputs go to
#	build/fuzz/corpus/NAME, the inputs that fail to
#	build/fuzz/artifacts/NAME/, the output to build/fuzz/NAME.log.
#	With FUZZ_FORK=N, runs N jobs at a time that go on after a crash
#	(libFuzzer's -fork and -ignore_crashes), to find more than one.
#   sh tests/fuzz/run.sh regress 0 NAME...
#	Runs each target once over every file of those two folders.
#
# Prints one line per target: executions and failures.  Exits 1 when a
# target failed (a crash, a leak, a timeout or running out of memory).
set -u

mode=$1 seconds=$2
shift 2
dir=build/fuzz
rc=0

# Executions a log reports: the final stats, else the last status line.
executions() {
	n=$(sed -n 's/^stat::number_executed_units: *//p;
	    s/^stat::number_of_executed_units: *//p' "$1" | tail -n 1)
	[ -n "$n" ] || n=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1)
	echo "${n:-0}"
}

# A differential target (jsonldiff) starts from its format's seeds.
seeds_of() {
	if [ -d "tests/fuzz/corpus/$1" ]; then
		echo "tests/fuzz/corpus/$1"
	else
		echo "tests/fuzz/corpus/${1%diff}"
	fi
}

fuzz_one() {
	name=$1
	art=$dir/artifacts/$name
	log=$dir/$name.log
	stamp=$dir/.stamp-$name
	mkdir -p "$dir/corpus/$name" "$art"
	touch "$stamp"
	seeds=$(seeds_of "$name")
	set -- "$dir/corpus/$name" "$seeds"
	[ -d "tests/fuzz/regressions/$name" ] &&
	    set -- "$@" "tests/fuzz/regressions/$name"
	[ -f "tests/fuzz/$name.dict" ] && set -- -dict="tests/fuzz/$name.dict" "$@"
	[ -n "${FUZZ_FORK:-}" ] &&
	    set -- -fork="$FUZZ_FORK" -ignore_crashes=1 -ignore_ooms=1 \
	    -ignore_timeouts=1 "$@"

	"$dir/fuzz_$name" -max_total_time="$seconds" -timeout=30 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$art/" "$@" >"$log" 2>&1
	status=$?
	found=$(find "$art" -type f -newer "$stamp" | wc -l)
	printf 'fuzz %-7s %10s executions, %s failing inputs' "$name" \
	    "$(executions "$log")" "$found"
	if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
		printf ' (exit %s; see %s and %s/)\n' "$status" "$log" "$art"
		rc=1
	else
		printf '\n'
	fi
}

regress_one() {
	name=$1
	files=$(find "$(seeds_of "$name")" "tests/fuzz/regressions/$name" \
	    -type f 2>/dev/null | sort)
	count=$(echo "$files" | grep -c .)
	log=$dir/$name-regress.log
	# Word splitting is wanted: the seed and regression names have no
	# spaces (seeds.py and libFuzzer name them).
	# shellcheck disable=SC2086
	if [ "$count" -eq 0 ] || "$dir/fuzz_$name" $files >"$log" 2>&1; then
		printf 'regress %-7s %4s inputs, ok\n' "$name" "$count"
	else
		printf 'regress %-7s %4s inputs, FAILED (see %s)\n' "$name" \
		    "$count" "$log"
		rc=1
	fi
}

for name in "$@"; do
	case $mode in
	fuzz) fuzz_one "$name" ;;
	regress) regress_one "$name" ;;
	*) echo "run.sh: unknown mode $mode" >&2; exit 2 ;;
	esac
done
exit $rc
