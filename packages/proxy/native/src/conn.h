// One relayed connection on the relay thread: its two sockets, the bytes a short write left behind,
// and the Output that session.h drives (writes, FINs, closes, notices, the end report).
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "relay.h"
#include "session.h"

namespace sb {

// One socket of a connection, as the relay thread sees it.
struct SideIO {
  int fd = -1;
  // Edge-triggered: set by an event, cleared only when a call returns EAGAIN. A side that is not read
  // while its peer drains keeps `readable`, so data and a FIN that came in one event are not lost.
  bool readable = true;
  bool writable = true;
  // read() returned 0: the peer hung up its sending side (stays set: the ET lost-FIN pitfall).
  bool eof = false;
  bool fin_req = false;   // the session wants shutdown(SHUT_WR) once pending bytes are out
  bool fin_done = false;  // ... and it was done
  bool dead = false;      // fd closed
  int err = 0;            // a write error not yet told to the session
  // Bytes a short write left behind; allocated only then, freed once drained.
  uint8_t* pend = nullptr;
  size_t pend_off = 0, pend_len = 0, pend_cap = 0;
  size_t pending() const { return pend_len - pend_off; }
  // splice(2) mode only: a pipe toward this side, and how many bytes sit in it. Its bytes go after the
  // heap-pending ones (which only the hand-over's first bytes can make in this mode).
  int pipe_r = -1, pipe_w = -1;
  size_t piped = 0;
  size_t queued() const { return pending() + piped; }
};

struct Conn final : Output {
  Conn(Relay* r, uint32_t i, const SessionOptions& o) : relay(r), id(i), sess(o, this) {}
  ~Conn() override {
    free(s[0].pend);
    free(s[1].pend);
  }

  void send(Side to, const uint8_t* p, size_t n) override {
    SideIO& x = s[to];
    if (x.dead || x.fin_req || x.err != 0 || n == 0) return;
    if (x.pending() == 0 && x.writable) {
      for (;;) {
        ssize_t r = ::send(x.fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r >= 0) {
          if (static_cast<size_t>(r) == n) return;
          // Short write: the socket buffer is full; the rest waits for EPOLLOUT.
          p += r;
          n -= r;
          x.writable = false;
          break;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          x.writable = false;
          break;
        }
        x.err = errno;
        return;
      }
    }
    append(x, p, n);
  }

  void fin(Side to) override { s[to].fin_req = true; }

  void kill(Side side) override {
    SideIO& x = s[side];
    if (x.dead) return;
    close_fd(x);
  }

  void notice(int kind, int a, int b) override {
    relay->emit(Event{id, kind, a, b, 0, double(bytes[kClient]), double(bytes[kBackend])});
  }

  void end(int how, int cause, int err) override {
    ended = true;
    close_fd(s[0]);
    close_fd(s[1]);
    relay->store_counters(this);
    relay->emit(Event{id, kEventEnd, how, cause, err, double(bytes[kClient]), double(bytes[kBackend])});
  }

  uint32_t mask_key() override {
    uint32_t k = 0;
    // getrandom() of 4 bytes never blocks once the pool is initialised (it is, long before a WebSocket).
    if (getrandom(&k, sizeof k, GRND_NONBLOCK) != sizeof k) k = static_cast<uint32_t>(random());
    return k;
  }

  void close_fd(SideIO& x) {
    if (x.dead) return;
    x.dead = true;
    // Remove before close: an epoll item lives as long as the open file, which another fd might still hold.
    epoll_event ev{};
    epoll_ctl(relay->epfd_, EPOLL_CTL_DEL, x.fd, &ev);
    ::close(x.fd);
    x.fd = -1;
    if (x.pipe_r >= 0) {
      ::close(x.pipe_r);
      ::close(x.pipe_w);
      x.pipe_r = x.pipe_w = -1;
      x.piped = 0;
    }
    free(x.pend);
    x.pend = nullptr;
    x.pend_off = x.pend_len = x.pend_cap = 0;
  }

  static void append(SideIO& x, const uint8_t* p, size_t n) {
    if (x.pend_off > 0 && x.pending() == 0) x.pend_off = x.pend_len = 0;
    if (x.pend_len + n > x.pend_cap) {
      if (x.pend_off > 0) {
        memmove(x.pend, x.pend + x.pend_off, x.pending());
        x.pend_len -= x.pend_off;
        x.pend_off = 0;
      }
      size_t cap = x.pend_cap == 0 ? 4096 : x.pend_cap;
      while (cap < x.pend_len + n) cap *= 2;
      if (cap != x.pend_cap) {
        uint8_t* grown = static_cast<uint8_t*>(realloc(x.pend, cap));
        if (grown == nullptr) {
          x.err = ENOMEM;
          return;
        }
        x.pend = grown;
        x.pend_cap = cap;
      }
    }
    memcpy(x.pend + x.pend_len, p, n);
    x.pend_len += n;
  }

  // Moves what the pipe holds to the socket (splice mode); true if any went out.
  static bool flush_pipe(SideIO& x) {
    size_t before = x.piped;
    while (x.piped > 0) {
      ssize_t r = splice(x.pipe_r, nullptr, x.fd, nullptr, x.piped, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (r > 0) {
        x.piped -= r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        x.writable = false;
      } else {
        x.err = r < 0 ? errno : EPIPE;
      }
      break;
    }
    return x.piped != before;
  }

  // Writes queued bytes; true if any went out.
  static bool flush(SideIO& x) {
    size_t before = x.pending();
    while (x.pending() > 0) {
      ssize_t r = ::send(x.fd, x.pend + x.pend_off, x.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r > 0) {
        x.pend_off += r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        x.writable = false;
      } else {
        x.err = r < 0 ? errno : EPIPE;
      }
      break;
    }
    if (x.pending() == 0 && x.pend != nullptr) {
      // Drained: an idle connection holds no buffer.
      free(x.pend);
      x.pend = nullptr;
      x.pend_off = x.pend_len = x.pend_cap = 0;
    }
    return x.pending() != before;
  }

  Relay* relay;
  uint32_t id;
  SideIO s[2];
  Session sess;
  uint64_t bytes[2] = {0, 0};  // read from the client (in) and from the backend (out)
  uint64_t stored[2] = {0, 0};
  bool ended = false;
  bool queued = false;
};

}  // namespace sb
