#!/bin/sh
# A run on the RTL writes a waveform that holds every signal waveforms/core.gtkw shows.
# Usage: wave_check.sh PLUGIN SAVEFILE WORKDIR
set -eu
plugin=$1 gtkw=$2 dir=$3
mkdir -p "$dir"
fst="$dir/wave_check.fst"
rm -f "$fst"
# ldxw r0, [r1]; mul r0, 3; exit  on the memory 2a 00 00 00
printf '61 10 00 00 00 00 00 00 27 00 00 00 03 00 00 00 95 00 00 00 00 00 00 00\n' |
    "$plugin" 2a000000 --model rtl --wave "$fst" > "$dir/wave_check.out"
[ "$(cat "$dir/wave_check.out")" = 7e ] || { echo "r0 is not 0x7e"; exit 1; }
[ -s "$fst" ] || { echo "no waveform written"; exit 1; }
fst2vcd "$fst" 2>/dev/null | awk '/\$scope/{d++; s[d]=$3} /\$upscope/{d--}
    /\$var/{p=""; for(i=1;i<=d;i++) p=p s[i] "."; print p $5}' | sort -u > "$dir/wave_check.sigs"
missing=0
for s in $(grep '^ebpf_core\.' "$gtkw" | sed 's/\[.*//'); do
    grep -qx "$s" "$dir/wave_check.sigs" || { echo "not in the waveform: $s"; missing=1; }
done
exit $missing
