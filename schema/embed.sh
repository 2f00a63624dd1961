#!/bin/sh
# Writes a C file holding each migration given as an argument, in order,
# as one string of the NULL-terminated array schema_migrations[].
echo '/* Generated from the schema/ migrations by embed.sh; do not edit. */'
echo 'const char *const schema_migrations[] = {'
for f in "$@"; do
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$f"
	echo '	,'
done
echo '	0'
echo '};'
