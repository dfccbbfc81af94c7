#!/bin/sh
# SPDX-License-Identifier: MIT
# check-source.sh BUILD_DIR - what the structure promises (src/README), checked on the
# built library and the sources; make check runs it after the plain suite.
#   - libpercpu.so has one static-section registration constructor (percpu.h), not one
#     per source file;
#   - every global symbol of libpercpu.a is in the library's namespaces, and one named
#     pcpu_* is public (exported by libpercpu.so): internals are _pcpu_*;
#   - only src/options.c reads the environment, and the LIBPERCPU_* variables of its
#     table are exactly those that libpercpu(3) documents.
cd "$(dirname "$0")/.." || exit 1
b=${1:-build}
fail=0
bad() { echo "check-source: $*"; fail=1; }

n=$(nm "$b/libpercpu.so" | grep -c ' __pcpu_dso_register$')
[ "$n" -eq 1 ] || bad "$n copies of __pcpu_dso_register in $b/libpercpu.so (want 1)"

exported=$(nm -D --defined-only "$b/libpercpu.so" | awk '{print $3}' | sed 's/@.*//')
for s in $(nm -g --defined-only "$b/libpercpu.a" | awk 'NF == 3 {print $3}' | sort -u); do
	case "$s" in
	_pcpu_* | __pcpu_*) ;;
	pcpu_*) echo "$exported" | grep -qx "$s" || bad "$s: internal, but named as the API (use _pcpu_)" ;;
	*) bad "$s: a global symbol outside the library's namespaces" ;;
	esac
done

readers=$(grep -l 'getenv *(' src/*.c)
[ "$readers" = src/options.c ] || bad "the environment is read outside src/options.c: $readers"
table=$(grep -o '"LIBPERCPU_[A-Z_]*"' src/options.c | tr -d '"' | sort -u)
manual=$(sed -n 's/^\.B \(LIBPERCPU_[A-Z_]*\)$/\1/p' man/libpercpu.3 | sort -u)
[ -n "$table" ] && [ "$table" = "$manual" ] ||
	bad "options.c's table ($(echo $table)) is not what libpercpu(3) documents ($(echo $manual))"

[ "$fail" -eq 0 ] && echo "source: one registration constructor, internals named _pcpu_, options in one table and the manual"
exit $fail
