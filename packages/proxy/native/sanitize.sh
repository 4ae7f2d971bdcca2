#!/bin/sh
# Builds the relay addon with AddressSanitizer + UndefinedBehaviorSanitizer (in native/build-asan/, the
# regular build is left alone) and runs the native relay's unit tests and the WebSocket integration suites
# (native data plane, the default) against it.
#   packages/proxy/native/sanitize.sh [extra jest test paths...]
# SANITIZE_UNIT_ONLY=1 runs the unit tests only.
# Node itself is not instrumented, so libasan is preloaded; leak detection is off (Node keeps memory
# until exit by design); any ASan or UBSan report fails the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/.." && pwd)
repo=$(cd "$pkg/../.." && pwd)
work="$here/build-asan"
rm -rf "$work"
mkdir -p "$work/native"
cp "$pkg/binding.gyp" "$work/"
cp -r "$here/src" "$work/native/src"
# The install script's own logic (local headers only, no download), run on the copy.
mkdir -p "$work/scripts"
cp "$pkg/scripts/build-native.js" "$work/scripts/"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
CXXFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" node "$work/scripts/build-native.js"
if [ ! -f "$work/build/Release/switchboard_relay.node" ]; then
  echo "sanitize.sh: the ASan/UBSan build failed" >&2
  exit 1
fi
asan=$(g++ -print-file-name=libasan.so)
ubsan=$(g++ -print-file-name=libubsan.so)
log="$work/sanitizer"
cd "$repo"
# The test file fails (not skips) under CI=true when the addon does not load.
CI=true SWITCHBOARD_NATIVE_RELAY="$work/build/Release/switchboard_relay.node" \
  LD_PRELOAD="$asan $ubsan" \
  ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$log" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$log" \
  npx jest --runInBand packages/proxy/test/unit/native/native-relay.test.ts "$@"
if [ "${SANITIZE_UNIT_ONLY:-}" != "1" ]; then
  # Proxies on the native plane under ASan/UBSan: every hand-over, limit, close code, reset and teardown
  # path of the integration suites (native-data-plane.test.ts also checks the native plane is in use).
  # The churn is cut to 2,000 cycles per plane to keep the run bounded (~3-4 min here).
  CI=true SWITCHBOARD_NATIVE_RELAY="$work/build/Release/switchboard_relay.node" SWITCHBOARD_DATA_PLANE=native \
    SWITCHBOARD_CHURN_CYCLES=2000 \
    LD_PRELOAD="$asan $ubsan" \
    ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$log" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$log" \
    npx jest --runInBand test/native-data-plane.test.ts test/websocket-echo.test.ts test/websocket-upgrade.test.ts \
      test/message-limits.test.ts test/lifecycle.test.ts test/issue-10-upgrade-frames.test.ts test/hostile-inputs.test.ts \
      test/websocket-reset-churn.test.ts
fi
if ls "$log".* >/dev/null 2>&1; then
  echo "sanitizer reports:" >&2
  cat "$log".* >&2
  exit 1
fi
echo "sanitize.sh: no ASan/UBSan report"
