// libFuzzer harness for the relay's per-connection state machine (session.h): an input is a script of
// events (bytes from either side, FINs, errors, close/ping requests, destroy). Whatever happens:
//  - what the session sends each way parses as WebSocket frames without a violation (its own close and
//    ping frames land on frame boundaries, frames to the backend are masked, none to the client);
//  - nothing is sent after end(), end() comes at most once, nothing is sent to a side after its FIN;
//  - no crash, no out-of-bounds access (ASan/UBSan build).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "../src/session.h"

using namespace sb;

static void check(bool ok) {
  if (!ok) abort();
}

struct Recorder final : Output {
  Recorder() : to{FrameTracker(false, FrameTracker::kNoLimit, FrameTracker::kNoLimit), FrameTracker(true, FrameTracker::kNoLimit, FrameTracker::kNoLimit)} {}
  void send(Side side, const uint8_t* p, size_t n) override {
    check(!ended);
    check(!killed[side]);
    if (finned[side]) return;  // the socket layer drops these
    if (tracking) {
      to[side].push(p, n, 0, false);
      check(!to[side].failed());
    }
    sent[side] += n;
  }
  void fin(Side side) override {
    check(!ended);
    finned[side] = true;
  }
  void kill(Side side) override { killed[side] = true; }
  void notice(int, int, int) override { check(!ended); }
  void end(int how, int, int) override {
    check(!ended);
    check(how >= kHowClosed && how <= kHowUnplaceable);
    ended = true;
  }
  uint32_t mask_key() override { return 0x12345678; }
  FrameTracker to[2];  // what the client / the backend receive
  size_t sent[2] = {0, 0};
  bool finned[2] = {false, false};
  bool killed[2] = {false, false};
  bool ended = false;
  bool tracking = true;
};

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  SessionOptions o;
  o.tracking = (data[0] & 1) != 0;
  if (data[0] & 2) o.max_frame_payload = data[1];
  if (data[0] & 4) o.max_message_size = uint64_t(data[2]) * 3;
  Recorder rec;
  Session s(o, &rec);
  rec.tracking = s.tracking();
  size_t i = 3;
  while (i < size) {
    uint8_t op = data[i++];
    Side side = (op & 0x80) ? kBackend : kClient;
    switch (op & 0x0f) {
      case 0: case 1: case 2: case 3: case 4: case 5: case 6: {
        // Bytes from a side: the next (op >> 4 & 7) * 5 + 1 input bytes, or what is left.
        size_t len = ((op >> 4) & 7) * 5 + 1;
        if (len > size - i) len = size - i;
        s.on_data(side, data + i, len);
        i += len;
        break;
      }
      case 7: s.on_eof(side); break;
      case 8: s.on_error(side, 104); break;
      case 9: {
        static const char reason[] = "a reason \xc3\xa9 long enough to be cut \xe2\x82\xac at a character boundary.................................................................";
        int codes[] = {1000, 1001, 1012, 4000};
        s.request_close(codes[(op >> 4) & 3], reason, (op & 0x40) ? sizeof(reason) - 1 : 5);
        break;
      }
      case 10: s.ping(); break;
      case 11: if (rec.finned[side]) s.fin_flushed(side); break;
      case 12: if ((op & 0x70) == 0x70) s.destroy(); break;
      default: break;
    }
    check(s.done() == rec.ended);
  }
  return 0;
}
