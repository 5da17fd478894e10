#!/usr/bin/env bash
# Probe the demo (gateway + GMS emulator) with scim-sanity, an external RFC 7643/7644
# conformance checker, and fail only on failures not listed in the allow-list.
#
# Usage: .ci/scim-sanity.sh [path/to/datahub-scim]   (default: target/debug/datahub-scim)
# Env:   SCIM_SANITY_REPORT  where to save the JSON report (default: target/scim-sanity-report.json;
#                            the printed summary goes next to it as .txt)
#        SCIM_SANITY_ALLOWED allow-list file (default: .ci/scim-sanity-allowed.txt);
#                            each line: `<check name> # <RFC reason>`; blank lines and lines
#                            starting with `#` are ignored.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN="${1:-target/debug/datahub-scim}"
REPORT="${SCIM_SANITY_REPORT:-target/scim-sanity-report.json}"
ALLOWED="${SCIM_SANITY_ALLOWED:-.ci/scim-sanity-allowed.txt}"
SCIM_SANITY_VERSION="0.7.4"

if [[ ! -x "$BIN" ]]; then
  echo "scim-sanity: $BIN not found; run 'cargo build' first" >&2
  exit 2
fi

# Run it as a module so a user-site install outside PATH works too.
SCIM_SANITY=(python3 -m scim_sanity)
installed="$("${SCIM_SANITY[@]}" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' || true)"
if [[ "$installed" != "$SCIM_SANITY_VERSION" ]]; then
  python3 -m pip install --quiet "scim-sanity==${SCIM_SANITY_VERSION}" ||
    python3 -m pip install --quiet --break-system-packages "scim-sanity==${SCIM_SANITY_VERSION}"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
SCIM_PORT="$(free_port)"
GMS_PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
WORK="$(mktemp -d)"
TOKEN_FILE="$WORK/token"
DEMO_LOG="$WORK/demo.log"
DEMO_PID=""

cleanup() {
  if [[ -n "$DEMO_PID" ]] && kill -0 "$DEMO_PID" 2>/dev/null; then
    kill "$DEMO_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DEMO_PID" 2>/dev/null || true
    wait "$DEMO_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" demo \
  --listen "127.0.0.1:${SCIM_PORT}" \
  --gms-listen "127.0.0.1:${GMS_PORT}" \
  --admin-listen "127.0.0.1:${ADMIN_PORT}" \
  --token-file "$TOKEN_FILE" >"$DEMO_LOG" 2>&1 &
DEMO_PID=$!

ready=""
for _ in $(seq 1 300); do
  if ! kill -0 "$DEMO_PID" 2>/dev/null; then
    echo "scim-sanity: the demo exited early; its log:" >&2
    cat "$DEMO_LOG" >&2
    exit 2
  fi
  if [[ -s "$TOKEN_FILE" ]] &&
     curl -fsS -o /dev/null "http://127.0.0.1:${ADMIN_PORT}/ready" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ -z "$ready" ]]; then
  echo "scim-sanity: the demo did not become ready in 30 s; its log:" >&2
  cat "$DEMO_LOG" >&2
  exit 2
fi

BASE_URL="https://127.0.0.1:${SCIM_PORT}/scim/v2"
TOKEN="$(tr -d '\r\n' <"$TOKEN_FILE")"
mkdir -p "$(dirname "$REPORT")"

# Trust the certificate the demo prints; skip verification only if it printed none.
CA="$(sed -n 's/^CA=//p' "$DEMO_LOG" | head -1)"
CA="${CA#\'}"; CA="${CA%\'}"
if [[ -n "$CA" && -r "$CA" ]]; then
  TLS_ARGS=(--ca-bundle "$CA")
else
  echo "scim-sanity: the demo printed no CA certificate; skipping TLS verification" >&2
  TLS_ARGS=(--tls-no-verify)
fi
set +e
PYTHONWARNINGS="ignore:Unverified HTTPS request" "${SCIM_SANITY[@]}" probe "$BASE_URL" \
  --token "$TOKEN" \
  "${TLS_ARGS[@]}" \
  --i-accept-side-effects \
  --timeout 30 \
  --json-output >"$REPORT"
probe_rc=$?
set -e

SUMMARY="${REPORT%.json}.txt"
set +e
python3 - "$REPORT" "$ALLOWED" "$probe_rc" <<'PY' | tee "$SUMMARY"
import json, sys

report_path, allowed_path, probe_rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    with open(report_path) as f:
        report = json.load(f)
except (OSError, ValueError) as e:
    print(f"scim-sanity: no JSON report ({e}); probe exit code {probe_rc}")
    sys.exit(2)

allowed = {}
try:
    with open(allowed_path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" # ")
            allowed[name.strip()] = reason.strip()
except FileNotFoundError:
    pass

phase = None
for r in report.get("results", []):
    if r.get("phase") != phase:
        phase = r.get("phase")
        print(f"\n== {phase or '(no phase)'}")
    status = r.get("status", "?").upper()
    mark = ""
    if r.get("status") in ("fail", "error") and r.get("name") in allowed:
        mark = f"  [allowed: {allowed[r['name']]}]"
    msg = r.get("message", "")
    print(f"  {status:5} {r.get('name')}{(': ' + msg) if msg else ''}{mark}")

s = report.get("summary", {})
print(f"\nscim-sanity {report.get('scim_sanity_version', '')} ({report.get('mode', '')}): "
      f"{s.get('passed', 0)} passed, {s.get('failed', 0)} failed, {s.get('errors', 0)} errors, "
      f"{s.get('warnings', 0)} warnings, {s.get('skipped', 0)} skipped")

failures = [r for r in report.get("results", []) if r.get("status") in ("fail", "error")]
unexpected = [r for r in failures if r.get("name") not in allowed]
stale = sorted(set(allowed) - {r.get("name") for r in failures})
for name in stale:
    print(f"note: allow-listed check now passes (or no longer exists): {name}")
if unexpected:
    print(f"\nscim-sanity: {len(unexpected)} failure(s) not in the allow-list:")
    for r in unexpected:
        print(f"  - {r.get('name')}: {r.get('message', '')}")
    sys.exit(1)
print("scim-sanity: no unexpected failures")
PY
rc=${PIPESTATUS[0]}
set -e
echo "scim-sanity: report saved to $REPORT and $SUMMARY"
exit "$rc"
