// One relay thread with an edge-triggered epoll loop that carries many connections (session.h decides,
// this file does the I/O). JS talks to it through a command queue (eventfd wake-up) and hears back through
// an event queue drained on the JS thread.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "session.h"

namespace sb {

struct Conn;

struct Event {
  uint32_t id;
  int kind;  // kEventEnd or a Notice
  int a, b, c;
  double bytes_in, bytes_out;
};
constexpr int kEventEnd = 0;

struct AdoptRequest {
  uint32_t id;
  int client_fd, backend_fd;  // ours (dup()ed); the relay closes them
  SessionOptions options;
  bool splice = false;         // splice(2) through pipes when nothing needs tracking
  std::string head_to_client;  // raw bytes (the 101 head), not frames
  std::string to_client;       // frames the backend sent before the hand-over
  std::string to_backend;      // frames the client sent before the hand-over
};

class Relay {
 public:
  // `counters` holds 2 doubles per id (bytes in, bytes out), written by the relay thread, read by JS.
  // `notify` is called (from the relay thread) when the event queue goes from empty to non-empty.
  Relay(double* counters, uint32_t capacity, void (*notify)(void*), void* notify_arg);
  ~Relay();
  bool start(std::string* error);
  void stop();

  void adopt(AdoptRequest&& r);
  void request_close(uint32_t id, int code, std::string reason);
  void ping(uint32_t id);
  void destroy(uint32_t id);
  // Events queued since the last call (JS thread).
  void take_events(std::vector<Event>* out);

 private:
  friend struct Conn;
  struct Command {
    int type;
    uint32_t id;
    int code;
    std::string reason;
    AdoptRequest* adopt;
  };
  void post(Command&& c);
  void loop();
  void run_commands();
  void pump(Conn* c);
  void emit(const Event& e);
  void store_counters(Conn* c);
  void release(Conn* c);

  double* counters_;
  uint32_t capacity_;
  void (*notify_)(void*);
  void* notify_arg_;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::thread thread_;
  bool running_ = false;
  std::mutex mu_;
  std::vector<Command> commands_;
  std::vector<Event> events_;
  // Relay thread only.
  std::vector<Conn*> conns_;   // by id
  std::vector<Conn*> ready_;   // connections that used up their turn with work left
};

}  // namespace sb
