#include "relay.h"

#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace sb {

namespace {
constexpr size_t kScratch = 64 * 1024;
constexpr uint64_t kWake = UINT64_MAX;
// Reads and flushes per connection per turn before the others get theirs.
constexpr int kTurn = 16;
enum CommandType { kAdopt, kClose, kPing, kDestroy, kStop };

// One per relay thread; what is read lives here only until it is written or queued.
thread_local uint8_t scratch[kScratch];

void store(double* slot, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  __atomic_store_n(reinterpret_cast<uint64_t*>(slot), bits, __ATOMIC_RELAXED);
}
}  // namespace

Relay::Relay(double* counters, uint32_t capacity, void (*notify)(void*), void* notify_arg)
    : counters_(counters), capacity_(capacity), notify_(notify), notify_arg_(notify_arg) {}

Relay::~Relay() { stop(); }

bool Relay::start(std::string* error) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) {
    *error = std::string("epoll/eventfd: ") + strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWake;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
  conns_.assign(capacity_, nullptr);
  ready_.reserve(capacity_);
  running_ = true;
  thread_ = std::thread([this] { loop(); });
  return true;
}

void Relay::stop() {
  if (!running_) return;
  post(Command{kStop, 0, 0, {}, nullptr});
  thread_.join();
  running_ = false;
  ::close(epfd_);
  ::close(wakefd_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Command& c : commands_) {
      if (c.adopt != nullptr) {
        ::close(c.adopt->client_fd);
        ::close(c.adopt->backend_fd);
        delete c.adopt;
      }
    }
    commands_.clear();
  }
}

void Relay::post(Command&& c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands_.push_back(std::move(c));
  }
  uint64_t one = 1;
  ssize_t ignored = write(wakefd_, &one, sizeof one);
  (void)ignored;
}

void Relay::adopt(AdoptRequest&& r) {
  uint32_t id = r.id;
  post(Command{kAdopt, id, 0, {}, new AdoptRequest(std::move(r))});
}
void Relay::request_close(uint32_t id, int code, std::string reason) { post(Command{kClose, id, code, std::move(reason), nullptr}); }
void Relay::ping(uint32_t id) { post(Command{kPing, id, 0, {}, nullptr}); }
void Relay::destroy(uint32_t id) { post(Command{kDestroy, id, 0, {}, nullptr}); }

void Relay::take_events(std::vector<Event>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->swap(events_);
}

void Relay::emit(const Event& e) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = events_.empty();
    events_.push_back(e);
  }
  // One wake-up per batch: JS drains everything queued when it runs.
  if (was_empty) notify_(notify_arg_);
}

void Relay::store_counters(Conn* c) {
  for (int i = 0; i < 2; i++) {
    if (c->bytes[i] != c->stored[i]) {
      c->stored[i] = c->bytes[i];
      store(&counters_[2 * c->id + i], double(c->bytes[i]));
    }
  }
}

void Relay::release(Conn* c) {
  conns_[c->id] = nullptr;
  if (c->queued) {
    // Rare (a connection that ended from a command while waiting for its next turn).
    for (size_t i = 0; i < ready_.size(); i++) {
      if (ready_[i] == c) {
        ready_.erase(ready_.begin() + i);
        break;
      }
    }
  }
  delete c;
}

void Relay::loop() {
  epoll_event evs[256];
  std::vector<Conn*> batch;
  batch.reserve(capacity_);
  bool stopping = false;
  while (!stopping) {
    int n = epoll_wait(epfd_, evs, 256, ready_.empty() ? -1 : 0);
    bool woke = false;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == kWake) {
        woke = true;
        continue;
      }
      uint32_t id = static_cast<uint32_t>(evs[i].data.u64 >> 1);
      Conn* c = id < conns_.size() ? conns_[id] : nullptr;
      if (c == nullptr) continue;
      SideIO& x = c->s[evs[i].data.u64 & 1];
      uint32_t e = evs[i].events;
      // Errors and hang-ups are found by the next read or write, which returns them.
      if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) x.readable = true;
      if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) x.writable = true;
      if ((e & EPOLLERR) && x.err == 0 && !x.dead) {
        // A reset on a side that is no longer read (its FIN came) and has nothing to write: found here.
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(x.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) x.err = err;
      }
      if (!c->queued) {
        c->queued = true;
        ready_.push_back(c);
      }
    }
    batch.swap(ready_);
    for (Conn* c : batch) {
      c->queued = false;
      pump(c);
    }
    batch.clear();
    if (woke) {
      uint64_t count;
      ssize_t ignored = read(wakefd_, &count, sizeof count);
      (void)ignored;
      std::vector<Command> cmds;
      {
        std::lock_guard<std::mutex> lock(mu_);
        cmds.swap(commands_);
      }
      for (Command& cmd : cmds) {
        if (cmd.type == kStop) {
          stopping = true;
          continue;
        }
        if (cmd.type == kAdopt) {
          AdoptRequest* r = cmd.adopt;
          if (stopping || r->id >= conns_.size() || conns_[r->id] != nullptr) {
            ::close(r->client_fd);
            ::close(r->backend_fd);
            delete r;
            continue;
          }
          Conn* c = new Conn(this, r->id, r->options);
          conns_[r->id] = c;
          int fds[2] = {r->client_fd, r->backend_fd};
          for (int s = 0; s < 2; s++) {
            c->s[s].fd = fds[s];
            fcntl(fds[s], F_SETFL, fcntl(fds[s], F_GETFL) | O_NONBLOCK);
            // As the JS splice does (setNoDelay): small frames go out at once.
            int one = 1;
            setsockopt(fds[s], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
            ev.data.u64 = (uint64_t(r->id) << 1) | uint64_t(s);
            epoll_ctl(epfd_, EPOLL_CTL_ADD, fds[s], &ev);
          }
          if (r->splice && !c->sess.tracking()) {
            // Without frame tracking the bytes need no look: a pipe per direction for splice(2). Out of
            // fds: the plain recv/send path serves.
            for (int s = 0; s < 2; s++) {
              int p[2];
              if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) break;
              c->s[s].pipe_r = p[0];
              c->s[s].pipe_w = p[1];
            }
            if (c->s[1].pipe_r < 0 && c->s[0].pipe_r >= 0) {
              ::close(c->s[0].pipe_r);
              ::close(c->s[0].pipe_w);
              c->s[0].pipe_r = c->s[0].pipe_w = -1;
            }
          }
          // What was read before the hand-over goes first, as if just read.
          c->send(kClient, reinterpret_cast<const uint8_t*>(r->head_to_client.data()), r->head_to_client.size());
          c->bytes[kBackend] += r->to_client.size();
          c->sess.on_data(kBackend, reinterpret_cast<const uint8_t*>(r->to_client.data()), r->to_client.size());
          c->bytes[kClient] += r->to_backend.size();
          if (!c->ended)
            c->sess.on_data(kClient, reinterpret_cast<const uint8_t*>(r->to_backend.data()), r->to_backend.size());
          delete r;
          pump(c);
          continue;
        }
        Conn* c = cmd.id < conns_.size() ? conns_[cmd.id] : nullptr;
        if (c == nullptr || stopping) continue;
        if (cmd.type == kClose) {
          c->sess.request_close(cmd.code, cmd.reason.data(), cmd.reason.size());
        } else if (cmd.type == kPing) {
          c->sess.ping();
        } else if (cmd.type == kDestroy) {
          c->sess.destroy();
        }
        pump(c);
      }
    }
  }
  // Stopping: every connection still here closes without a report (the JS side is going away).
  for (Conn*& c : conns_) {
    if (c == nullptr) continue;
    c->close_fd(c->s[0]);
    c->close_fd(c->s[1]);
    delete c;
    c = nullptr;
  }
  ready_.clear();
}

void Relay::pump(Conn* c) {
  int round = 0;
  for (; round < kTurn && !c->ended; round++) {
    bool progress = false;
    for (int i = 0; i < 2 && !c->ended; i++) {
      SideIO& x = c->s[i];
      if (x.dead) continue;
      if (x.pending() > 0 && x.writable && Conn::flush(x)) progress = true;
      if (x.pending() == 0 && x.piped > 0 && x.writable && Conn::flush_pipe(x)) progress = true;
      if (x.fin_req && !x.fin_done && x.queued() == 0 && x.err == 0) {
        // Every byte for this side is out: pass the FIN on.
        shutdown(x.fd, SHUT_WR);
        x.fin_done = true;
        progress = true;
        c->sess.fin_flushed(Side(i));
      }
      if (x.err != 0 && !c->ended) {
        int err = x.err;
        x.err = 0;
        progress = true;
        c->sess.on_error(Side(i), err);
      }
    }
    for (int i = 0; i < 2 && !c->ended; i++) {
      SideIO& src = c->s[i];
      SideIO& dst = c->s[1 - i];
      if (src.dead || src.eof || !src.readable) continue;
      // Backpressure: a side is not read while its peer cannot take more.
      if (dst.queued() > 0 && c->sess.relays(Side(i))) continue;
      ssize_t r;
      if (dst.pipe_w >= 0 && c->sess.relays(Side(i))) {
        // splice(2) mode: socket -> pipe -> socket, the bytes never enter user space.
        r = splice(src.fd, nullptr, dst.pipe_w, nullptr, kScratch, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (r > 0) {
          c->bytes[i] += r;
          dst.piped += r;
          if (dst.writable && dst.pending() == 0) Conn::flush_pipe(dst);
          progress = true;
          continue;
        }
      } else {
        r = recv(src.fd, scratch, kScratch, 0);
      }
      if (r > 0) {
        c->bytes[i] += r;
        c->sess.on_data(Side(i), scratch, r);
        progress = true;
      } else if (r == 0) {
        src.eof = true;
        c->sess.on_eof(Side(i));
        progress = true;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        src.readable = false;
      } else if (errno != EINTR) {
        progress = true;
        c->sess.on_error(Side(i), errno);
      }
    }
    if (!progress) break;
  }
  if (c->ended) {
    release(c);
    return;
  }
  store_counters(c);
  // Out of turns with work left: after the others have had theirs.
  if (round == kTurn && !c->queued) {
    c->queued = true;
    ready_.push_back(c);
  }
}

}  // namespace sb
