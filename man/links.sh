#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints "NAME PAGE" for every name that gets a ".so" link to a page at install, so that
# "man NAME" opens the page that documents it:
#  - each name of a page's NAME section but the page's own;
#  - each name <percpu/kernel.h> defines (function-like macros, lowercase object-like
#    ones, inline functions), linked to the page of the first pcpu_/PCPU_ name its
#    definition uses, or to percpu-kernel.3 when that has no page.
# Run from the source tree.  The links follow the headers and pages by themselves:
# nothing to update when a name is added.
set -e
names=$(for p in man/*.3; do
	awk -v page="${p#man/}" '
		/^\.SH NAME/ { f = 1; next }
		/^\.SH/ { f = 0 }
		f { text = text " " $0 }
		END {
			sub(/ \\-( .*|$)/, "", text); gsub(/\\/, "", text)
			n = split(text, a, ",")
			for (i = 1; i <= n; i++) {
				gsub(/^ +| +$/, "", a[i])
				if (a[i] != "" && a[i] ".3" != page)
					print a[i], page
			}
		}' "$p"
done)
echo "$names"
# kernel.h: join continued lines, then one "name first-pcpu-name" per definition
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' include/percpu/kernel.h | awk '
	/^#define [A-Za-z_][A-Za-z0-9_]*\(/ || /^#define [a-z_][a-z0-9_]* / {
		name = $2; sub(/\(.*/, "", name)
		rest = $0; sub(/^#define [A-Za-z0-9_]*(\([^)]*\))?/, "", rest)
		print name, rest; next
	}
	/^static inline / { match($0, /[a-z_][a-z0-9_]*\(/); fn = substr($0, RSTART, RLENGTH - 1); body = ""; next }
	fn != "" { body = body " " $0 }
	fn != "" && /^}/ { print fn, body; fn = "" }' |
while read -r name rest; do
	target=$(echo "$rest" | grep -o '\b\(pcpu\|PCPU\)_[A-Za-z0-9_]*' | head -n 1 || true)
	if [ -n "$target" ] && [ -f "man/$target.3" ]; then
		page="$target.3"
	else
		page=$(echo "$names" | awk -v t="$target" '$1 == t { print $2; exit }')
	fi
	[ -n "$page" ] || page=percpu-kernel.3
	[ -f "man/$name.3" ] || echo "$name $page"
done
