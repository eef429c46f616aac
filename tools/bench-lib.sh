# Shared by the offline benchmarks (tools/bench-offline, tools/bench-dnstap):
# sourced, not run. Needs $errlog (a temporary file for a failed run's stderr).

# bench_pcap N [GEN-OPT...]: sets pcap, msgs and pkts for a pcap of N DNS
# messages made by tools/gen-pcap (seed 1), cached in build/ by N and options.
bench_pcap() {
	local n=$1 tag
	shift
	tag=$(printf '%s' "$n $*" | md5sum | cut -c1-8)
	pcap=build/bench-offline-$n-$tag.pcap
	if [ ! -s "$pcap" ] || [ tools/gen-pcap -nt "$pcap" ]; then
		echo "generating $pcap ($n messages) ..."
		mkdir -p build
		python3 tools/gen-pcap -n "$n" --seed 1 "$@" -o "$pcap.tmp" 2> "$pcap.log"
		cat "$pcap.log"
		mv "$pcap.tmp" "$pcap"
	fi
	msgs=$(sed -n 's/.* \([0-9]*\) DNS messages.*/\1/p' "$pcap.log")
	pkts=$(sed -n 's/.*: \([0-9]*\) packets.*/\1/p' "$pcap.log")
	echo "file: $pcap, $(du -m "$pcap" | cut -f1) MB, $pkts packets, $msgs DNS messages"
}

# seconds COMMAND...: wall-clock seconds of one run, output discarded.
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" > /dev/null 2> "$errlog" || { echo "$(basename "$0"): $* failed:" >&2; cat "$errlog" >&2; return 1; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", b - a}'
}

# calc EXPR: floating-point arithmetic (awk: no bc needed).
calc() {
	awk "BEGIN {print $1}"
}

median() {
	sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
