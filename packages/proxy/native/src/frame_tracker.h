// WebSocket frame-boundary tracker (RFC 6455 section 5.2), a port of src/websocket/ws-frame-tracker.ts.
// Reads only the 2-14 header bytes of each frame and skips payloads by counting; the only payload bytes
// it reads are the 2-byte status code of a close frame. No allocation, no syscalls: fuzzable on its own.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sb {

class FrameTracker {
 public:
  static constexpr uint64_t kNoLimit = UINT64_MAX;

  FrameTracker(bool masked, uint64_t max_frame_payload, uint64_t max_message_size)
      : mask_bit_(masked ? 0x80 : 0), max_frame_(max_frame_payload), max_message_(max_message_size) {}

  // No frame is partially through: a control frame may be injected here.
  bool at_boundary() const { return state_ == kHeader && header_len_ == 0; }
  bool failed() const { return state_ == kFailed; }
  bool in_message() const { return in_message_; }
  // Status code of the first close frame that fully passed (1005 when it had no payload); 0 when none yet.
  int close_code() const { return close_code_; }
  // 1002 (protocol error) or 1009 (too big) once failed, else 0.
  int violation_code() const { return violation_code_; }
  const char* violation_reason() const { return violation_reason_; }
  // After a failure: true when the offending frame's header began in an earlier push() (its first bytes are gone).
  bool header_began_before() const { return header_began_before_; }
  uint64_t frames() const { return frames_; }
  uint64_t messages() const { return messages_; }

  // Consumes p[start, n). Returns the index it stopped at:
  //  - n when everything was consumed;
  //  - with stop_at_boundary, the index just past the first frame that ends (call it only when !at_boundary());
  //  - on a violation, the index where the offending frame's header starts in this chunk (start when it began
  //    in an earlier chunk: see header_began_before()). Once failed, it consumes nothing and returns start.
  size_t push(const uint8_t* p, size_t n, size_t start, bool stop_at_boundary) {
    size_t i = start;
    // A header gathered partly in an earlier chunk: its first bytes were relayed already.
    bool carried = header_len_ > 0;
    while (i < n) {
      if (state_ == kPayload) {
        uint64_t left = n - i;
        if (left < remaining_) {
          remaining_ -= left;
          return n;
        }
        i += static_cast<size_t>(remaining_);
        remaining_ = 0;
        end_frame();
        if (stop_at_boundary) return i;
      } else if (state_ == kHeader) {
        if (header_len_ == 0 && n - i >= 2) {
          // Fast path: the whole header is in this chunk, parsed in place.
          size_t size = header_size(p[i + 1]);
          if (n - i >= size) {
            if (!check_start(p[i], p[i + 1]) || !parse_header(p + i)) return fail_at(i, false);
            i += size;
            if (state_ == kHeader && stop_at_boundary) return i;
            continue;
          }
        }
        // A header split across chunks is gathered in 14 bytes of our own.
        if (header_len_ == 0) {
          header_start_ = i;
          carried = false;
        }
        header_[header_len_++] = p[i++];
        if (header_len_ == 2 && !check_start(header_[0], header_[1])) return fail_at(carried ? start : header_start_, carried);
        if (header_len_ >= 2 && header_len_ == header_size(header_[1])) {
          header_len_ = 0;
          if (!parse_header(header_)) return fail_at(carried ? start : header_start_, carried);
          carried = false;
          if (state_ == kHeader && stop_at_boundary) return i;
        }
      } else if (state_ == kCloseCode) {
        uint8_t mask_byte = static_cast<uint8_t>(mask_ >> (code_bytes_ == 0 ? 24 : 16));
        pending_code_ = ((pending_code_ << 8) | (p[i++] ^ mask_byte)) & 0xffff;
        remaining_--;
        if (++code_bytes_ == 2) {
          if (remaining_ > 0) {
            state_ = kPayload;
          } else {
            end_frame();
            if (stop_at_boundary) return i;
          }
        }
      } else {
        return start;
      }
    }
    return i;
  }

 private:
  enum State : uint8_t { kHeader, kPayload, kCloseCode, kFailed };

  static size_t header_size(uint8_t b1) {
    uint8_t len7 = b1 & 0x7f;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
  }

  // Where the relay may cut: the offending frame's first byte, or `start` when that byte went out earlier.
  size_t fail_at(size_t at, bool before) {
    header_began_before_ = before;
    return at;
  }

  bool check_start(uint8_t b0, uint8_t b1) {
    uint8_t opcode = b0 & 0x0f;
    if (opcode > 0xa || (opcode > 0x2 && opcode < 0x8)) return fail(1002, "reserved opcode");
    if ((b1 & 0x80) != mask_bit_) return fail(1002, mask_bit_ ? "MASK must be set" : "MASK must be clear");
    if (opcode >= 0x8) {
      if ((b0 & 0x80) == 0) return fail(1002, "fragmented control frame");
      if ((b1 & 0x7f) > 125) return fail(1002, "control frame payload over 125 bytes");
    } else if (opcode == 0x0) {
      if (!in_message_) return fail(1002, "continuation frame without a message in progress");
    } else if (in_message_) {
      return fail(1002, "new data frame inside a fragmented message");
    }
    return true;
  }

  bool parse_header(const uint8_t* h) {
    uint8_t b0 = h[0], b1 = h[1];
    uint8_t len7 = b1 & 0x7f;
    uint64_t length = len7;
    size_t mask_at = 2;
    if (len7 == 126) {
      length = (static_cast<uint64_t>(h[2]) << 8) | h[3];
      mask_at += 2;
    } else if (len7 == 127) {
      uint32_t high = (uint32_t(h[2]) << 24) | (uint32_t(h[3]) << 16) | (uint32_t(h[4]) << 8) | h[5];
      uint32_t low = (uint32_t(h[6]) << 24) | (uint32_t(h[7]) << 16) | (uint32_t(h[8]) << 8) | h[9];
      if (high >= 0x80000000u) return fail(1002, "64-bit payload length has its most significant bit set");
      // Same bound as the JS tracker (2^53 - 1), so both paths refuse the same frames.
      if (high > 0x1fffff) return fail(1009, "payload length over 2^53 - 1");
      length = (static_cast<uint64_t>(high) << 32) | low;
      mask_at += 8;
    }
    if (length > max_frame_) return fail(1009, "frame payload too big");
    uint8_t opcode = b0 & 0x0f;
    bool fin = (b0 & 0x80) != 0;
    if (opcode < 0x8) {
      // Saturating: a message's size only grows by payloads that were really relayed, but stay safe anyway.
      uint64_t base = opcode == 0x0 ? message_bytes_ : 0;
      message_bytes_ = base > UINT64_MAX - length ? UINT64_MAX : base + length;
      if (message_bytes_ > max_message_) return fail(1009, "message too big");
      if (!fin) in_message_ = true;
    }
    opcode_ = opcode;
    fin_ = fin;
    remaining_ = length;
    if (opcode == 0x8 && length != 0) {
      if (length == 1) return fail(1002, "close frame payload of 1 byte");
      mask_ = (b1 & 0x80) ? (uint32_t(h[mask_at]) << 24) | (uint32_t(h[mask_at + 1]) << 16) |
                                (uint32_t(h[mask_at + 2]) << 8) | h[mask_at + 3]
                          : 0;
      code_bytes_ = 0;
      pending_code_ = 0;
      state_ = kCloseCode;
    } else if (length == 0) {
      pending_code_ = 1005;
      end_frame();
    } else {
      state_ = kPayload;
    }
    return true;
  }

  void end_frame() {
    state_ = kHeader;
    frames_++;
    if (opcode_ < 0x8) {
      if (fin_) {
        in_message_ = false;
        messages_++;
      }
    } else if (opcode_ == 0x8 && close_code_ == 0) {
      close_code_ = static_cast<int>(pending_code_);
    }
  }

  bool fail(int code, const char* reason) {
    violation_code_ = code;
    violation_reason_ = reason;
    state_ = kFailed;
    return false;
  }

  const uint8_t mask_bit_;
  const uint64_t max_frame_;
  const uint64_t max_message_;
  State state_ = kHeader;
  uint8_t header_[14];
  uint8_t header_len_ = 0;
  uint8_t opcode_ = 0;
  uint8_t code_bytes_ = 0;
  bool fin_ = false;
  bool in_message_ = false;
  bool header_began_before_ = false;
  uint32_t pending_code_ = 1005;
  uint32_t mask_ = 0;
  int close_code_ = 0;
  int violation_code_ = 0;
  const char* violation_reason_ = "";
  size_t header_start_ = 0;
  uint64_t remaining_ = 0;
  uint64_t message_bytes_ = 0;
  uint64_t frames_ = 0;
  uint64_t messages_ = 0;
};

}  // namespace sb
