#!/usr/bin/env bash
# Rebuilds docs/foundation.md: what the readers see in the real data, the .kinrec I/O benchmark, and the Azure
# MKV bit-identity check. Usage: bash bench/foundation_report.sh [DATA_DIR]   (default ../shared/data)
set -euo pipefail
data=$(realpath "${1:-../shared/data}")
out=docs/foundation.md
tmp=$(mktemp -d)
{
  echo "# Foundation on the real data"
  echo
  echo "Produced by \`bash bench/foundation_report.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores). Nothing here is typed by hand."
  echo
  echo "## kinact info $data/utd-mhad"; echo; echo '```'; ( time -p kinact info "$data/utd-mhad" ) 2>&1; echo '```'
  echo; echo "## kinact info $data/msr-action3d"; echo; echo '```'; ( time -p kinact info "$data/msr-action3d" ) 2>&1; echo '```'
  echo; echo "## NTU RGB+D samples"; echo; echo '```'
  kinact info "$data/ntu-samples"
  for f in "$data"/ntu-samples/*.skeleton; do
    kinact import "$f" --out "$tmp/$(basename "$f" .skeleton).kinrec" >/dev/null
    kinact info "$tmp/$(basename "$f" .skeleton).kinrec" | sed -n '1p;3p;5p'
  done
  echo '```'
  echo; echo "## Azure Kinect MKV → .kinrec, checked against the official SDK (pyk4a-bundle)"; echo; echo '```'
  bash bench/verify_azure_mkv.sh "$data/azure-kinect/recording.mkv" 2>&1 | grep -v '^wrote '
  kinact import "$data/azure-kinect/recording.mkv" --out "$tmp/azure.kinrec" >/dev/null && kinact info "$tmp/azure.kinrec"
  echo '```'
  echo; echo "## kinact bench io (512×424 depth + 25 joints, 30 fps, 10 s)"; echo; echo '```'
  kinact bench io --seconds 10 --out bench/io.json
  echo '```'
} > "$out"
rm -rf "$tmp"
echo "wrote $out"
