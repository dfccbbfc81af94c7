#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks installed manual pages (make check-install runs it on the staged tree):
#  1. every public name of the headers (functions, function-like macros, lowercase
#     object-like macros, inline functions; the kernel names of <percpu/kernel.h>
#     included) has a page in MANDIR/man3, or a .so link to one that exists;
#  2. every page says "libpercpu VERSION" and DATE in its .TH line;
#  3. mandoc -Tlint reports no warning (skipped, saying so, without mandoc).
# Usage: tests/check-man.sh MANDIR VERSION DATE   (from the source tree)
mandir=$1 version=$2 date=$3
bad=0
names=$( (grep -rh 'PCPU_API' include | sed -n 's/.*[ *]\([A-Za-z][A-Za-z0-9_]*\)(.*/\1/p'
	cat include/percpu.h include/percpu/*.h |
		sed -n -e 's/^#define \([A-Za-z][A-Za-z0-9_]*\)(.*/\1/p' \
		       -e 's/^#define \([a-z][a-z0-9_]*\)\( .*\)*$/\1/p' \
		       -e 's/^static inline [^(]*[ *]\([A-Za-z][A-Za-z0-9_]*\)(.*/\1/p'
	sed -n 's/^#define \(__[a-z][a-z0-9_]*\)(.*/\1/p' include/percpu/kernel.h) | sort -u)
n=0
for name in $names; do
	n=$((n + 1))
	f=$mandir/man3/$name.3
	if [ ! -f "$f" ]; then
		echo "man: no page for $name"
		bad=1
		continue
	fi
	target=$(sed -n 's/^\.so //p' "$f")
	if [ -n "$target" ] && [ ! -f "$mandir/$target" ]; then
		echo "man: $name.3 links to $target, which is not installed"
		bad=1
	fi
done
pages=$(grep -L '^\.so ' "$mandir"/man1/*.1 "$mandir"/man3/*.3)
for p in $pages; do
	if ! grep -q "^\.TH .* $date \"libpercpu $version\"" "$p"; then
		echo "man: $p: .TH line lacks $date \"libpercpu $version\": $(grep '^\.TH' "$p")"
		bad=1
	fi
done
if command -v mandoc >/dev/null; then
	lint=$(mandoc -Tlint -W warning $pages 2>&1)
	if [ -n "$lint" ]; then
		echo "$lint"
		bad=1
	fi
else
	echo "mandoc not installed: lint skipped"
fi
[ "$bad" -eq 0 ] || exit 1
echo "man: $n public names open a page; $(echo "$pages" | wc -l) pages at $version, $date, lint-clean"
