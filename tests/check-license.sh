#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails, naming each one, if a source-like file (code, headers, tests, scripts, man pages,
# build and packaging files) lacks an "SPDX-License-Identifier: MIT" line among its first
# five lines: make check runs it, so files added later are caught too.  Looks at the
# files git knows of (tracked, or new and not ignored); outside a git checkout, at every
# file of the tree but the build folders.
cd "$(dirname "$0")/.." || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files --cached --others --exclude-standard)
else
	files=$(find . -name 'build*' -prune -o -type f -print | sed 's|^\./||')
fi
missing=0
for f in $files; do
	[ -f "$f" ] || continue
	case "$f" in
	*.c | *.h | *.cpp | *.sh | *.map | *.in | *.cmake | *.[1-8] | Makefile | *.mk | \
	CMakeLists.txt | .ci/*) ;;
	*) head -c 2 "$f" | grep -q '^#!' || continue ;;
	esac
	if ! head -n 5 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
		echo "license: no SPDX-License-Identifier: MIT line at the top of $f"
		missing=$((missing + 1))
	fi
done
[ "$missing" -eq 0 ] || exit 1
echo "license: every source file carries SPDX-License-Identifier: MIT"
