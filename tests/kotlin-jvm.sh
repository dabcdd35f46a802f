#!/usr/bin/env bash
# Runs the Kotlin suite (android/jvm-tests) on a plain JVM against the freshly
# built bindings library and a real fengqiao-server on a loopback port. The
# Android app's screen state (android/app/.../state, plain Kotlin) is compiled
# and tested with it.
#
#   ./tests/kotlin-jvm.sh
#
# Installs what it needs when missing: kotlinc (npm package `kotlin-compiler`,
# into tests/.tools), JNA (Debian's libjna-java), a JDK (default-jdk-headless).
# Prints `N passed, N failed` and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

KOTLIN_COMPILER_VERSION=2.4.20
tools="$root/tests/.tools"
kotlin_home="$tools/node_modules/kotlin-compiler"
jna_jar=/usr/share/java/jna.jar
. "$root/tests/lib/target-dir.sh"
target_dir=$(cargo_target_dir)

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

step "tools (JDK, kotlinc, JNA)"
command -v java >/dev/null 2>&1 || apt_install default-jdk-headless
command -v curl >/dev/null 2>&1 || apt_install curl
if [ ! -x "$kotlin_home/bin/kotlinc" ]; then
  command -v npm >/dev/null 2>&1 || apt_install npm
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-audit --no-fund "kotlin-compiler@$KOTLIN_COMPILER_VERSION"
fi
[ -f "$jna_jar" ] || apt_install libjna-java
java -version 2>&1 | head -1
echo "kotlinc $(cat "$kotlin_home/build.txt" 2>/dev/null || echo '?'), $(readlink -f "$jna_jar")"

step "bindings library and generated Kotlin"
bindings/build.sh

step "server"
cargo build -p fengqiao-server
work=$(mktemp -d "${TMPDIR:-/tmp}/fengqiao-kotlin.XXXXXX")
server_pid=
tls_pid=
cleanup() {
  for pid in $server_pid $tls_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/server" "$work/phones"
# The county's policy on this server is stricter than the app's bundled
# default, so the quarantine test meets a real server-side refusal.
cat > "$work/server/policy.toml" <<'TOML'
[visits]
max_notes_chars = 100
TOML
FENGQIAO_LOG=warn "$target_dir/debug/fengqiao-server" serve --data "$work/server" --listen 127.0.0.1:0 --demo \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
url=
for _ in $(seq 1 150); do
  url=$(sed -n 's/^fengqiao-server listening on \(http[^ ]*\).*/\1/p' "$work/server.out" | head -1)
  if [ -n "$url" ] && curl -fsS "$url/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server exited:" >&2; cat "$work/server.err" >&2; exit 1
  fi
  url=
  sleep 0.2
done
[ -n "$url" ] || { echo "the server did not become healthy" >&2; cat "$work/server.err" >&2; exit 1; }
echo "server at $url"

# A second server serving HTTPS itself, with a certificate of a county CA made
# here; the TLS suite pins its key (SPKI SHA-256, as `sha256/<base64>`).
command -v openssl >/dev/null 2>&1 || apt_install openssl
mkdir -p "$work/tls" "$work/tls-server"
(
  cd "$work/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=county CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=county server" \
    -keyout key.pem -out server.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > ext.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf \
    -out cert.pem 2>/dev/null
)
tls_pin="sha256/$(openssl x509 -in "$work/tls/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)"
FENGQIAO_LOG=warn "$target_dir/debug/fengqiao-server" serve --data "$work/tls-server" --listen 127.0.0.1:0 --demo \
  --tls-cert "$work/tls/cert.pem" --tls-key "$work/tls/key.pem" >"$work/tls.out" 2>"$work/tls.err" &
tls_pid=$!
tls_url=
for _ in $(seq 1 150); do
  tls_url=$(sed -n 's/^fengqiao-server listening on \(https[^ ]*\).*/\1/p' "$work/tls.out" | head -1)
  if [ -n "$tls_url" ] && curl -fsS --cacert "$work/tls/ca.pem" "$tls_url/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$tls_pid" 2>/dev/null; then
    echo "the TLS server exited:" >&2; cat "$work/tls.err" >&2; exit 1
  fi
  tls_url=
  sleep 0.2
done
[ -n "$tls_url" ] || { echo "the TLS server did not become healthy" >&2; cat "$work/tls.err" >&2; exit 1; }
echo "TLS server at $tls_url"

step "compile (kotlinc)"
libdir="$kotlin_home/lib"
cp="$jna_jar:$libdir/kotlinx-coroutines-core-jvm.jar:$libdir/kotlin-test.jar"
"$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 -cp "$cp" -d "$work/classes" \
  bindings/generated/kotlin/org/fengqiao/core/*.kt android/jvm-tests/src/*.kt \
  android/app/src/main/kotlin/org/fengqiao/app/state/*.kt

step "run (java + JNA, library in $target_dir/debug)"
set +e
FENGQIAO_SERVER_URL="$url" \
FENGQIAO_DEMO_CREDENTIALS="$work/server/demo-credentials.json" \
FENGQIAO_TEST_DIR="$work/phones" \
FENGQIAO_TLS_URL="$tls_url" \
FENGQIAO_TLS_CA="$work/tls/ca.pem" \
FENGQIAO_TLS_PIN="$tls_pin" \
  java -Djna.library.path="$target_dir/debug" \
    -cp "$work/classes:$libdir/kotlin-stdlib.jar:$cp" org.fengqiao.jvmtests.MainKt
status=$?
set -e
exit "$status"
