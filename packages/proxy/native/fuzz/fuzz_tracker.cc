// libFuzzer harness for the frame tracker: whatever the bytes and however they are split into reads,
// the tracker must not crash, must stay in bounds, and must reach the same verdict as when the same
// bytes come in one read (frames, messages, close code, violation code).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "../src/frame_tracker.h"

using sb::FrameTracker;

static void check(bool ok) {
  if (!ok) abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  // Header of the input: direction, limits and split pattern.
  bool masked = data[0] & 1;
  uint64_t max_frame = (data[1] & 0x80) ? FrameTracker::kNoLimit : uint64_t(data[1]) * 7;
  uint64_t max_message = (data[2] & 0x80) ? FrameTracker::kNoLimit : uint64_t(data[2]) * 13;
  uint8_t split_seed = data[3];
  const uint8_t* p = data + 4;
  size_t n = size - 4;

  FrameTracker whole(masked, max_frame, max_message);
  size_t stopped = whole.push(p, n, 0, false);
  check(stopped <= n);
  check(whole.failed() || stopped == n);

  // Same bytes in reads of varying sizes; half the time consumed boundary by boundary.
  FrameTracker split(masked, max_frame, max_message);
  size_t pos = 0;
  uint32_t rng = split_seed * 2654435761u + 1;
  while (pos < n && !split.failed()) {
    rng = rng * 1103515245u + 12345u;
    size_t len = 1 + (rng >> 16) % 37;
    if (len > n - pos) len = n - pos;
    size_t at = pos;
    while (at < pos + len && !split.failed()) {
      bool stop = (rng & 0x100) != 0 && !split.at_boundary();
      size_t got = split.push(p, pos + len, at, stop);
      check(got <= pos + len);
      if (split.failed()) {
        check(got >= pos || split.header_began_before());
        break;
      }
      check(got > at || at == pos + len);
      at = got;
    }
    pos += len;
  }
  check(split.failed() == whole.failed());
  check(split.violation_code() == whole.violation_code());
  check(split.frames() == whole.frames());
  check(split.messages() == whole.messages());
  check(split.close_code() == whole.close_code());
  if (!whole.failed()) check(split.at_boundary() == whole.at_boundary());
  return 0;
}
