#!/bin/sh
# make check: the layer rule of docs/design.md, mechanically. No statement
# label of the core's catalogue (core/sl_sql.c) is named by the glue or the
# CLI: they call core functions, which run the statements.
src="${srcdir:-.}"
labels=$(grep -o '{ "siali_[a-z0-9_]*"' "$src/mod_siali/core/sl_sql.c" | sed 's/{ "//; s/"//' \
         | sort -u)
[ -n "$labels" ] || { echo "check-layers: no labels found in sl_sql.c"; exit 1; }
status=0
for f in "$src"/mod_siali/*.c "$src"/mod_siali/cli/*.c; do
    for l in $labels; do
        if grep -q "\"$l\"" "$f"; then
            echo "check-layers: $f names the statement $l (call a core function instead)"
            status=1
        fi
    done
done
[ "$status" -eq 0 ] && echo "check-layers: $(echo "$labels" | wc -l) labels, none outside core/"
exit "$status"
