#!/bin/sh
# SPDX-License-Identifier: MIT
# check-inline.sh - the this_cpu operations are inline at -O2, with gcc and with clang:
# a function of eight increments (of a dynamic object's members, and of eight static
# per-CPU variables) compiles to eight rseq sections of its own, with no out-of-line
# copy of an operation (GCC once made __pcpu_add_8.constprop.0 and called it from five of
# the eight) and no call except to the library's entry points for the cold paths
# (__pcpu_* : initialization, registration, the atomic fallback); and each increment's
# commit addresses the copy through one register, not base + index (clang made
# addq $1,(%r11,%rsi,1), and its one-counter loop ran 2x slower than with (%reg));
# and, with clang, that the fields the sections read are read once per function; and that
# the way to the eighth commit has at most two conditional branches per increment.
# Usage: sh tests/check-inline.sh [compiler...]   (default: cc, and clang if installed)
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/eight.c" <<'EOF'
#include <percpu.h>
struct eight { uint64_t a, b, c, d, e, f, g, h; };
PCPU_DEFINE(uint64_t, s0); PCPU_DEFINE(uint64_t, s1); PCPU_DEFINE(uint64_t, s2);
PCPU_DEFINE(uint64_t, s3); PCPU_DEFINE(uint64_t, s4); PCPU_DEFINE(uint64_t, s5);
PCPU_DEFINE(uint64_t, s6); PCPU_DEFINE(uint64_t, s7);
/* its size is the field's offset, for check 5 */
char rso_offset[offsetof(struct __pcpu_fast, rseq_offset)];
void eight_dynamic(struct eight *p);
void eight_static(void);
void eight_dynamic(struct eight *p)
{
	pcpu_this_inc(p->a); pcpu_this_inc(p->b); pcpu_this_inc(p->c); pcpu_this_inc(p->d);
	pcpu_this_inc(p->e); pcpu_this_inc(p->f); pcpu_this_inc(p->g); pcpu_this_inc(p->h);
}
void eight_static(void)
{
	pcpu_this_inc(s0); pcpu_this_inc(s1); pcpu_this_inc(s2); pcpu_this_inc(s3);
	pcpu_this_inc(s4); pcpu_this_inc(s5); pcpu_this_inc(s6); pcpu_this_inc(s7);
}
EOF
compilers=${*:-cc}
[ $# -eq 0 ] && command -v clang >/dev/null && compilers="cc clang"
fail=0
for c in $compilers; do
	case $($c -dumpmachine) in x86_64*) ;; *) echo "check-inline: $c: no rseq sections on this target, skipped"; continue ;; esac
	o="$tmp/eight-$c.o"
	if ! $c -O2 -D_GNU_SOURCE -Iinclude -c "$tmp/eight.c" -o "$o"; then
		echo "check-inline: $c: does not compile"; fail=1; continue
	fi
	# 1. no function but the two: an out-of-line copy of an operation would be a third
	funcs=$(nm --defined-only "$o" | awk '$2 ~ /^[tT]$/ { print $3 }' | grep -v '^__pcpu_dso_\(un\)\?register$' | sort | tr '\n' ' ')
	if [ "$funcs" != "eight_dynamic eight_static " ]; then
		echo "check-inline: $c: functions other than the two: $funcs"; fail=1
	fi
	# 2. every call goes to a library entry point (the relocation names it)
	bad=$(objdump -dr --no-show-raw-insn "$o" | awk '
		/<eight_(dynamic|static)>:/ { infn = 1; next }
		/^[0-9a-f]+ <.*>:/ { infn = 0 }
		infn && /\tcall/ { want = 1; line = $0; next }
		want { want = 0; if ($0 !~ /R_X86_64_(PLT32|PC32|GOTPCRELX?)[ \t]+__pcpu_/) print line " " $0 }')
	if [ -n "$bad" ]; then
		echo "check-inline: $c: calls to something else than the library's cold paths:"
		echo "$bad"; fail=1
	fi
	# 3. at least eight sections per function, i.e. one per operation at least
	hex=$(objdump -h "$o" | awk '$2 == "__rseq_cs_ptr_array" { print $3 }')
	n=$(( 0x${hex:-0} / 8 ))
	if [ "$n" -lt 16 ]; then
		echo "check-inline: $c: $n rseq sections for 16 operations"; fail=1
	fi
	# 4. the commits: an add of 1 to memory addressed by one register, none indexed
	adds=$(objdump -d --no-show-raw-insn "$o" | awk '
		/<eight_(dynamic|static)>:/ { infn = 1; next }
		/^[0-9a-f]+ <.*>:/ { infn = 0 }
		infn && /\tlock/ { next }
		infn && /\tadd[bwlq]? +\$0x1,\(%[a-z0-9]+\)$/ { one++ }
		infn && /\tadd[bwlq]? +\$0x1,[^(]*\([^)]*,/ { print "indexed: " $0 }
		END { print "one " one + 0 }')
	if ! echo "$adds" | grep -q '^one \(1[6-9]\|[2-9][0-9]\)$' || echo "$adds" | grep -q '^indexed'; then
		echo "check-inline: $c: commits not all through one register:"
		echo "$adds"; fail=1
	fi
	# 5. clang: the stable rseq_offset read once per function, the fresh one once per
	# fresh section (half of them): at most n/2 + 2 loads of it (a stack slot at the
	# same offset, 0x18(%rsp), is no read of it).  (gcc reads it in
	# each section of straight-line code, but once per loop: its sections were always so.)
	if $c --version | grep -q clang; then
		off=$(nm -S "$o" | awk '$4 == "rso_offset" { print $2 }' | sed 's/^0*//')
		loads=$(objdump -d --no-show-raw-insn "$o" | awk -v off="0x${off:-0}(" '
			/<eight_(dynamic|static)>:/ { infn = 1; next }
			/^[0-9a-f]+ <.*>:/ { infn = 0 }
			infn && /\tmov +0x/ && !/\(%rsp\)/ && index($0, off) { k++ }
			END { print k + 0 }')
		if [ -z "$off" ] || [ "$loads" -gt $(( n / 2 + 2 )) ]; then
			echo "check-inline: $c: rseq_offset (at 0x${off:-?}) read $loads times for $n sections"; fail=1
		fi
	fi
	# 6. at most two conditional branches per increment on the way to the eighth
	# commit (the index bound, which also says whether the object is per-CPU, and the
	# result test): this machine runs two not-taken branches per cycle, and with four
	# per increment (a separate object check, and the comparison of an index read
	# before the section) the eight-counter loops were bound by them
	brs=$(objdump -d --no-show-raw-insn "$o" | awk '
		/<eight_(dynamic|static)>:/ { infn = 1; fn = $2; k = 0; br = 0; next }
		/^[0-9a-f]+ <.*>:/ { infn = 0 }
		infn && k < 8 && /\tadd[bwlq]? +\$0x1,\(%[a-z0-9]+\)$/ { if (++k == 8) print fn " " br; next }
		infn && k < 8 && /\tj[a-ln-z][a-z]* / { br++ }')
	if [ "$(echo "$brs" | awk '$2 <= 16 { ok++ } END { print ok + 0 }')" -ne 2 ]; then
		echo "check-inline: $c: more than 2 conditional branches per increment:" $brs; fail=1
	fi
	[ $fail -eq 0 ] && echo "check-inline: $c: 16 increments inline, ${n} sections, calls only to __pcpu_* cold paths, commits through one register, at most 2 branches each"
done
exit $fail
