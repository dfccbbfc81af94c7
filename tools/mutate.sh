#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mutate.sh - mutation testing: applies one-line, bug-like changes ("mutants") from a list
# to a scratch copy of the tree, one at a time, builds, runs the test programs each mutant
# names, and reports whether the suite noticed.  The score says how many plausible bugs
# the tests would catch; line coverage cannot.  `make mutate` runs it (not part of check).
#
#   tools/mutate.sh [-l LIST] [-k PATTERN] [-t SECONDS]
#     -l LIST     mutant list (default tests/mutants.txt; its header gives the format)
#     -k PATTERN  only mutants whose name contains PATTERN
#     -t SECONDS  time limit per test program (default 180); a hang counts as killed
#
# A mutant names its file, the exact original text and the replacement, never a line
# number: other changes move lines, and a mutant whose text is gone is reported "stale"
# rather than silently applied elsewhere.  Text found more than once is "ambiguous",
# unless the mutant gives an anchor ("within"): then the first occurrence after it.
# Both, "stillborn" mutants (they do not compile) and "equivalent" ones (marked in the
# list with the reason: no test can tell them from the original) are not counted.
#
# The working tree is never modified: everything happens in a temporary copy, removed
# at the end.  Builds are plain (no sanitizers), two jobs at most.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
list=$root/tests/mutants.txt
filter=
limit=180

while getopts "l:k:t:h" opt; do
	case $opt in
	l) list=$(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG") ;;
	k) filter=$OPTARG ;;
	t) limit=$OPTARG ;;
	*) sed -n '9,12p' "$0" >&2; exit 2 ;;
	esac
done
[ -r "$list" ] || { echo "mutate: cannot read $list" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pcpu-mutate.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
tree=$scratch/tree
mkdir -p "$tree"
# the sources only: no build folders, no git metadata
tar -C "$root" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$tree" -xf - || exit 2

# ---- the list ---------------------------------------------------------------------------
# Parsed into parallel arrays, one entry per mutant.
names=() files=() froms=() tos=() tests=() equivs=() withins=()
default_tests=
cur=-1
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in
	'file: '* | 'from: '* | 'to:'* | 'tests: '* | 'equivalent: '* | 'within: '*)
		if [ "$cur" -lt 0 ]; then
			echo "mutate: $list:$lineno: field outside a mutant" >&2
			exit 2
		fi ;;
	esac
	case $line in
	'' | '#'*) ;;
	'@tests '*) default_tests=${line#@tests } ;;
	'== '*)
		cur=${#names[@]}
		names[cur]=${line#== }
		files[cur]= froms[cur]= tos[cur]= equivs[cur]= withins[cur]=
		tests[cur]=$default_tests
		;;
	'file: '*) files[cur]=${line#file: } ;;
	'within: '*) withins[cur]=${line#within: } ;;
	'from: '*) froms[cur]=${line#from: } ;;
	'to:'*) tos[cur]=${line#to:}; tos[cur]=${tos[cur]# } ;;
	'tests: '*) tests[cur]=${line#tests: } ;;
	'equivalent: '*) equivs[cur]=${line#equivalent: } ;;
	*) echo "mutate: $list:$lineno: cannot parse: $line" >&2; exit 2 ;;
	esac
done <"$list"

for i in "${!names[@]}"; do
	if [ -z "${files[i]}" ] || [ -z "${froms[i]}" ] || [ -z "${tests[i]}" ]; then
		echo "mutate: mutant '${names[i]}' lacks file, from or tests" >&2
		exit 2
	fi
done

# ---- helpers ----------------------------------------------------------------------------

# The build target of a test program name (test_x, dso_x or an example).
target_of() {
	if [ -f "$tree/tests/$1.c" ]; then
		echo "build/tests/$1"
	elif [ -f "$tree/examples/$1.c" ]; then
		echo "build/examples/$1"
	else
		return 1
	fi
}

# Builds the programs of the test names in $1; output in $scratch/build.log.
build() {
	local t targets=
	for t in $1; do
		targets="$targets $(target_of "$t")" || return 1
	done
	make -C "$tree" -j2 B=build $targets >"$scratch/build.log" 2>&1
}

# Runs the programs; prints the first that failed, returns 1 if one did.
run_tests() {
	local t
	for t in $1; do
		if ! (cd "$tree" && timeout -k 5 "$limit" "./$(target_of "$t")") >"$scratch/test.log" 2>&1; then
			echo "$t"
			return 1
		fi
	done
	return 0
}

# The number of times the text $2 occurs in the string $1.
count_of() {
	local rest=$1 n=0
	while [[ $rest == *"$2"* ]]; do
		rest=${rest#*"$2"}
		n=$((n + 1))
	done
	echo $n
}

# ---- the baseline: the suite must pass without mutants ----------------------------------
# (only the programs of the mutants selected by -k)
all_tests=$(for i in "${!names[@]}"; do
		[ -n "$filter" ] && [[ ${names[i]} != *"$filter"* ]] && continue
		echo "${tests[i]}"
	done | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
# A name without a program is left out with a warning (a list may name tests that a
# branch does not have yet); a mutant left with no program at all is an error.
known=
for t in $all_tests; do
	if target_of "$t" >/dev/null; then
		known="$known $t"
	else
		echo "mutate: warning: no test program '$t': left out" >&2
	fi
done
all_tests=$known
for i in "${!names[@]}"; do
	kept=
	for t in ${tests[i]}; do
		[[ " $known " == *" $t "* ]] && kept="$kept $t"
	done
	tests[i]=$kept
	[ -n "$filter" ] && [[ ${names[i]} != *"$filter"* ]] && continue
	[ -n "$kept" ] || { echo "mutate: mutant '${names[i]}' has no test program" >&2; exit 2; }
done
echo "mutate: building and checking the unmutated tree ($all_tests)"
if ! build "$all_tests"; then
	tail -n 20 "$scratch/build.log"
	echo "mutate: the unmutated tree does not build" >&2
	exit 2
fi
if failed=$(run_tests "$all_tests"); [ -n "$failed" ]; then
	tail -n 20 "$scratch/test.log"
	echo "mutate: $failed fails without any mutant: fix the suite first" >&2
	exit 2
fi

# ---- the mutants ------------------------------------------------------------------------
killed=0 survived=0 stillborn=0 stale=0 equivalent=0
survivors=()
for i in "${!names[@]}"; do
	name=${names[i]} file=${files[i]}
	[ -n "$filter" ] && [[ $name != *"$filter"* ]] && continue
	if [ ! -f "$tree/$file" ]; then
		echo "STALE      $name: no file $file"
		stale=$((stale + 1))
		continue
	fi
	orig=$(cat "$tree/$file"; printf x)
	orig=${orig%x}
	# the text before the anchor (if any) stays as it is; the mutant applies after it
	head= rest=$orig where=
	if [ -n "${withins[i]}" ]; then
		n=$(count_of "$orig" "${withins[i]}")
		if [ "$n" -ne 1 ]; then
			echo "STALE      $name: anchor found $n times in $file"
			stale=$((stale + 1))
			continue
		fi
		head=${orig%%"${withins[i]}"*}${withins[i]}
		rest=${orig#*"${withins[i]}"}
		where=" after the anchor"
	fi
	n=$(count_of "$rest" "${froms[i]}")
	if [ "$n" -eq 0 ] || { [ "$n" -gt 1 ] && [ -z "${withins[i]}" ]; }; then
		if [ "$n" -eq 0 ]; then
			echo "STALE      $name: text not found$where in $file"
		else
			echo "STALE      $name: text found $n times in $file (ambiguous)"
		fi
		stale=$((stale + 1))
		continue
	fi
	if [ -n "${equivs[i]}" ]; then
		echo "EQUIVALENT $name: ${equivs[i]}"
		equivalent=$((equivalent + 1))
		continue
	fi
	printf '%s' "$head${rest/"${froms[i]}"/"${tos[i]}"}" >"$tree/$file"
	start=$(date +%s)
	if ! build "${tests[i]}"; then
		echo "STILLBORN  $name: does not compile"
		stillborn=$((stillborn + 1))
	elif failed=$(run_tests "${tests[i]}"); [ -n "$failed" ]; then
		echo "KILLED     $name: by $failed ($(( $(date +%s) - start ))s)"
		killed=$((killed + 1))
	else
		echo "SURVIVED   $name: ${tests[i]} pass ($(( $(date +%s) - start ))s)"
		survived=$((survived + 1))
		survivors+=("$name")
	fi
	printf '%s' "$orig" >"$tree/$file"
done

total=$((killed + survived))
echo
echo "stale $stale, stillborn $stillborn, equivalent $equivalent (not counted)"
[ ${#survivors[@]} -gt 0 ] && echo "survived: ${survivors[*]}"
if [ "$total" -gt 0 ]; then
	echo "killed $killed of $total ($((killed * 100 / total))%)"
else
	echo "killed 0 of 0"
fi
