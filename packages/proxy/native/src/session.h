// The relay's state machine for one connection, without any I/O: what to do with bytes, FINs and errors
// from each side, and with the proxy's own requests (close, ping, destroy). The socket layer (relay.cc)
// and the fuzz harness (fuzz/fuzz_session.cc) both drive it through the Output interface.
//
// Mirrors src/websocket/splice.ts: frames are relayed as they come; a close or ping frame of the proxy's own goes in
// at the next frame boundary of its direction; a limit (1009) or protocol violation (1002) stops that
// direction at the offending frame's first byte and places a close frame there; a backend that goes away
// without a close frame gets the client a 1011 close frame (at a boundary) before the FIN.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "frame_tracker.h"

namespace sb {

enum Side : int { kClient = 0, kBackend = 1 };
inline Side other(Side s) { return s == kClient ? kBackend : kClient; }

// How a connection ended (reported to JS).
enum How : int {
  kHowClosed = 0,        // both sides finished (FIN each way, or the client finished a close the proxy started)
  kHowClientError = 1,   // error/reset on the client socket
  kHowBackendError = 2,  // backend lost (error or EOF without a close frame) where no 1011 could be placed
  kHowDestroyed = 3,     // destroy() from JS, or requestClose() without frame tracking
  kHowUnplaceable = 4,   // a violation inside a header split across reads: no close frame could be placed
};

// Why the proxy started closing (reported with the end and with the "closing" notice).
enum Cause : int {
  kCauseNone = 0,
  kCauseRequested = 1,        // requestClose()
  kCauseTooBigClient = 2,     // 1009 on the client's stream
  kCauseTooBigBackend = 3,    // 1009 on the backend's stream
  kCauseViolationClient = 4,  // 1002 on the client's stream
  kCauseViolationBackend = 5, // 1002 on the backend's stream
  kCauseBackendLost = 6,      // backend error or EOF without close frame
};

enum Notice : int {
  kNoticeHalfClosed = 1,  // a = the side that sent its FIN first
  kNoticeClosing = 2,     // a = cause, b = close code placed
};

class Output {
 public:
  virtual ~Output() = default;
  // Bytes for `to`, in order; dropped when `to` is gone or has been sent a FIN.
  virtual void send(Side to, const uint8_t* p, size_t n) = 0;
  // shutdown(SHUT_WR) on `to` once every byte queued for it is out; the Session learns of it via fin_flushed().
  virtual void fin(Side to) = 0;
  // Close that side's socket now (the other side lives on).
  virtual void kill(Side s) = 0;
  virtual void notice(int kind, int a, int b) = 0;
  // The connection is over: close whatever is open and report once.
  virtual void end(int how, int cause, int err) = 0;
  // 4 random bytes for a masking key.
  virtual uint32_t mask_key() = 0;
};

struct SessionOptions {
  bool tracking = true;
  uint64_t max_frame_payload = FrameTracker::kNoLimit;
  uint64_t max_message_size = FrameTracker::kNoLimit;
};

// Encodes a FIN=1 control frame; masked frames (toward the backend) carry `key`. Returns its length.
inline size_t encode_control(uint8_t* out, uint8_t opcode, const uint8_t* payload, size_t len, bool masked, uint32_t key) {
  if (len > 125) len = 125;
  out[0] = 0x80 | opcode;
  out[1] = static_cast<uint8_t>((masked ? 0x80 : 0) | len);
  size_t h = 2;
  uint8_t k[4] = {uint8_t(key >> 24), uint8_t(key >> 16), uint8_t(key >> 8), uint8_t(key)};
  if (masked) {
    memcpy(out + 2, k, 4);
    h = 6;
  }
  for (size_t i = 0; i < len; i++) out[h + i] = masked ? payload[i] ^ k[i & 3] : payload[i];
  return h + len;
}

// Close frame payload: 2-byte code then the reason, cut to 123 bytes at a UTF-8 character boundary.
inline size_t close_payload(uint8_t* out, int code, const char* reason, size_t reason_len) {
  size_t n = reason_len > 123 ? 123 : reason_len;
  while (n < reason_len && n > 0 && (static_cast<uint8_t>(reason[n]) & 0xc0) == 0x80) n--;
  out[0] = static_cast<uint8_t>(code >> 8);
  out[1] = static_cast<uint8_t>(code);
  memcpy(out + 2, reason, n);
  return 2 + n;
}

class Session {
 public:
  Session(const SessionOptions& o, Output* out)
      : out_(out),
        tracking_(o.tracking || o.max_frame_payload != FrameTracker::kNoLimit ||
                  o.max_message_size != FrameTracker::kNoLimit),
        dirs_{Dir(true, o), Dir(false, o)} {}

  bool done() const { return done_; }
  bool closing() const { return closing_; }
  bool tracking() const { return tracking_; }
  // Bytes read from `from` go somewhere: if not, reading `from` does not wait for the other side to drain.
  bool relays(Side from) const {
    const Dir& d = dirs_[from];
    return !d.sealed && !gone_[other(from)] && !fin_wanted_[other(from)];
  }
  bool at_boundary(Side from) const { return dirs_[from].t.at_boundary(); }
  const FrameTracker& tracker(Side from) const { return dirs_[from].t; }

  // Bytes read from `from`; `raw` skips tracking (the 101 head, which is not frames).
  void on_data(Side from, const uint8_t* p, size_t n) {
    if (done_ || n == 0) return;
    Side to = other(from);
    Dir& d = dirs_[from];
    // Toward a closed socket nothing is relayed or watched (after a backend loss: the client's close reply).
    if (gone_[to]) return;
    if (!tracking_) {
      out_->send(to, p, n);
      return;
    }
    size_t pos = 0;
    while (pos < n) {
      if (d.sealed) {
        // The proxy sent its own close that way: the rest is only watched for the sender's close reply,
        // which completes the sender's close handshake with the proxy, so the sender gets its FIN.
        if (d.t.failed()) return;
        d.t.push(p, n, pos, false);
        if (d.t.close_code() != 0 && !d.replied) {
          d.replied = true;
          want_fin(from);
        }
        return;
      }
      if (d.injection_pending() && d.t.at_boundary()) {
        inject(d, to);
        continue;
      }
      size_t stop = d.t.push(p, n, pos, d.injection_pending());
      if (d.t.failed()) {
        // Everything before the offending frame goes on; the frame itself and what follows do not.
        if (stop > pos) out_->send(to, p + pos, stop - pos);
        violation(from, d.t.violation_code(), !d.t.header_began_before());
        return;
      }
      out_->send(to, p + pos, stop - pos);
      pos = stop;
    }
  }

  // `from` sent its FIN (read returned 0).
  void on_eof(Side from) {
    if (done_ || eof_[from]) return;
    eof_[from] = true;
    if (from == kBackend && !closing_ && tracking_ && dirs_[kBackend].t.close_code() == 0 && !eof_[kClient]) {
      // A FIN with no close frame before it: the backend went away mid-conversation (not an answer to the
      // client's FIN, which came first otherwise).
      backend_lost(0);
      return;
    }
    want_fin(other(from));
    if (!check_end() && !closing_ && !(eof_[kClient] && eof_[kBackend])) out_->notice(kNoticeHalfClosed, from, 0);
  }

  // Read or write error on `s` (errno).
  void on_error(Side s, int err) {
    if (done_) return;
    if (s == kClient) {
      finish(kHowClientError, err);
    } else {
      backend_lost(err);
    }
  }

  // The socket layer did shutdown(SHUT_WR) on `to` after its queued bytes.
  void fin_flushed(Side to) {
    fin_done_[to] = true;
    check_end();
  }

  // Close frames both ways, each at the next boundary of its direction.
  void request_close(int code, const char* reason, size_t reason_len) {
    if (done_ || closing_) return;
    if (!tracking_) {
      // Without frame boundaries no close frame can be placed safely.
      cause_ = kCauseRequested;
      finish(kHowDestroyed, 0);
      return;
    }
    closing_ = true;
    cause_ = kCauseRequested;
    uint8_t payload[125];
    size_t len = close_payload(payload, code, reason, reason_len);
    queue_close(kBackend, payload, len);  // the backend's stream carries frames toward the client
    queue_close(kClient, payload, len);
  }

  // A ping each way at the next boundary (idle check: live peers answer with a pong).
  void ping() {
    if (done_ || closing_ || !tracking_) return;
    for (int s = 0; s < 2; s++) {
      Dir& d = dirs_[s];
      if (d.sealed || d.t.failed()) continue;
      d.ping_pending = true;
      if (d.t.at_boundary()) inject(d, other(Side(s)));
    }
  }

  void destroy() { finish(kHowDestroyed, 0); }

  int cause() const { return cause_; }

 private:
  // One direction: bytes from its source side toward the other side.
  struct Dir {
    Dir(bool from_client, const SessionOptions& o) : t(from_client, o.max_frame_payload, o.max_message_size) {}
    bool injection_pending() const { return ping_pending || close_len != 0; }
    FrameTracker t;
    // The proxy sent its close toward the other side: nothing more is relayed in this direction.
    bool sealed = false;
    // The source answered the proxy's close with its own close frame.
    bool replied = false;
    bool ping_pending = false;
    // Payload of a close frame waiting for the next boundary (0: none).
    uint8_t close_len = 0;
    uint8_t close_payload[125];
  };

  // Sends what waits for a boundary in `d` toward `to`; a close seals the direction.
  void inject(Dir& d, Side to) {
    uint8_t frame[131];
    bool masked = to == kBackend;
    if (d.ping_pending) {
      d.ping_pending = false;
      out_->send(to, frame, encode_control(frame, 0x9, nullptr, 0, masked, masked ? out_->mask_key() : 0));
    }
    if (d.close_len != 0) {
      size_t n = encode_control(frame, 0x8, d.close_payload, d.close_len, masked, masked ? out_->mask_key() : 0);
      d.close_len = 0;
      out_->send(to, frame, n);
      d.sealed = true;
    }
  }

  // A close frame for the direction whose source is `from`, now if at a boundary, else at the next one.
  // None when that source's peer already saw a close (a second close is a protocol error) or the stream is broken.
  void queue_close(Side from, const uint8_t* payload, size_t len) {
    Dir& d = dirs_[from];
    if (d.sealed) return;
    if (d.t.close_code() != 0 || d.t.failed()) {
      d.sealed = true;
      return;
    }
    memcpy(d.close_payload, payload, len);
    d.close_len = static_cast<uint8_t>(len);
    d.ping_pending = false;
    if (d.t.at_boundary()) inject(d, other(from));
  }

  // A 1009/1002 on `from`'s stream: its peer gets the close now in place of the offending frame, the sender
  // gets one at the next boundary of its incoming stream. If the header began in an earlier read, its first
  // bytes are out already and no frame can be placed: both sockets close.
  void violation(Side from, int code, bool placeable) {
    Dir& d = dirs_[from];
    if (closing_) {
      // Already ending: that direction just stops.
      d.sealed = true;
      return;
    }
    cause_ = code == 1009 ? (from == kClient ? kCauseTooBigClient : kCauseTooBigBackend)
                          : (from == kClient ? kCauseViolationClient : kCauseViolationBackend);
    if (!placeable) {
      finish(kHowUnplaceable, 0);
      return;
    }
    closing_ = true;
    static const char kTooBig[] = "message too big";
    static const char kProtocol[] = "protocol error";
    uint8_t payload[125];
    size_t len = code == 1009 ? close_payload(payload, code, kTooBig, sizeof(kTooBig) - 1)
                              : close_payload(payload, code, kProtocol, sizeof(kProtocol) - 1);
    Side to = other(from);
    uint8_t frame[131];
    bool masked = to == kBackend;
    out_->send(to, frame, encode_control(frame, 0x8, payload, len, masked, masked ? out_->mask_key() : 0));
    d.sealed = true;
    d.close_len = 0;
    d.ping_pending = false;
    queue_close(to, payload, len);
    out_->notice(kNoticeClosing, cause_, code);
  }

  // The backend is gone without a close handshake: a 1011 close frame to the client when its stream stands at
  // a boundary, then its FIN; otherwise both close now.
  void backend_lost(int err) {
    if (done_) return;
    if (!gone_[kBackend]) {
      gone_[kBackend] = true;
      out_->kill(kBackend);
    }
    if (closing_) {
      // A close the proxy started is under way: wait for the client alone.
      check_end();
      return;
    }
    cause_ = kCauseBackendLost;
    Dir& down = dirs_[kBackend];
    if (!tracking_ || down.sealed || down.t.close_code() != 0 || !down.t.at_boundary() || fin_wanted_[kClient] ||
        gone_[kClient]) {
      finish(kHowBackendError, err);
      return;
    }
    closing_ = true;
    err_ = err;
    uint8_t payload[2];
    size_t len = close_payload(payload, 1011, "", 0);
    uint8_t frame[8];
    out_->send(kClient, frame, encode_control(frame, 0x8, payload, len, false, 0));
    down.sealed = true;
    down.close_len = 0;
    down.ping_pending = false;
    want_fin(kClient);
    out_->notice(kNoticeClosing, cause_, 1011);
  }

  void want_fin(Side to) {
    if (fin_wanted_[to] || gone_[to]) return;
    fin_wanted_[to] = true;
    out_->fin(to);
  }

  // Ends the connection when nothing is left to relay; returns true if it ended.
  bool check_end() {
    if (done_) return true;
    bool client_over = eof_[kClient] && (fin_done_[kClient] || gone_[kClient]);
    bool backend_over = eof_[kBackend] && (fin_done_[kBackend] || gone_[kBackend]);
    // JS ends a close the proxy started as soon as the client's socket is closed both ways.
    if ((closing_ && client_over) || (client_over && (backend_over || gone_[kBackend]))) {
      finish(kHowClosed, err_);
      return true;
    }
    return false;
  }

  void finish(int how, int err) {
    if (done_) return;
    done_ = true;
    out_->end(how, cause_, err);
  }

  Output* out_;
  const bool tracking_;
  Dir dirs_[2];  // indexed by source side
  bool eof_[2] = {false, false};
  bool fin_wanted_[2] = {false, false};
  bool fin_done_[2] = {false, false};
  bool gone_[2] = {false, false};
  bool done_ = false;
  bool closing_ = false;
  int cause_ = kCauseNone;
  int err_ = 0;
};

}  // namespace sb
