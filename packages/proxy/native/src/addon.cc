// Node-API binding of the relay: a Relay object per JS owner (one relay thread each; the library makes one).
#include <fcntl.h>
#include <napi.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "relay.h"

namespace {

uint64_t limit_of(const Napi::Value& v) {
  double d = v.As<Napi::Number>().DoubleValue();
  // Negative or non-finite: no limit (JS passes -1 for Infinity).
  if (!std::isfinite(d) || d < 0 || d >= 18446744073709551615.0) return sb::FrameTracker::kNoLimit;
  return static_cast<uint64_t>(d);
}

std::string bytes_of(const Napi::Value& v) {
  if (!v.IsBuffer()) return {};
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return std::string(reinterpret_cast<const char*>(b.Data()), b.Length());
}

class RelayWrap : public Napi::ObjectWrap<RelayWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Relay",
                       {InstanceMethod("adopt", &RelayWrap::Adopt), InstanceMethod("requestClose", &RelayWrap::RequestClose),
                        InstanceMethod("ping", &RelayWrap::Ping), InstanceMethod("destroy", &RelayWrap::Destroy),
                        InstanceMethod("close", &RelayWrap::Close), InstanceAccessor("counters", &RelayWrap::Counters, nullptr),
                        InstanceAccessor("size", &RelayWrap::Size, nullptr)});
  }

  // new Relay(capacity, onEvent): onEvent(kind, id, a, b, c, bytesIn, bytesOut) on the JS thread.
  RelayWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RelayWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new Relay(capacity: number, onEvent: function)").ThrowAsJavaScriptException();
      return;
    }
    capacity_ = info[0].As<Napi::Number>().Uint32Value();
    if (capacity_ == 0 || capacity_ > (1u << 20)) {
      Napi::RangeError::New(env, "capacity must be 1..1048576").ThrowAsJavaScriptException();
      return;
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, size_t(capacity_) * 2 * sizeof(double));
    memset(ab.Data(), 0, ab.ByteLength());
    counters_ = Napi::Float64Array::New(env, size_t(capacity_) * 2, ab, 0);
    counters_ref_ = Napi::Persistent(counters_);
    free_.reserve(capacity_);
    for (uint32_t i = capacity_; i > 0; i--) free_.push_back(i - 1);
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "switchboard-relay", 0, 1);
    // Only live connections keep the process alive (like the sockets they replace).
    tsfn_.Unref(env);
    relay_ = new sb::Relay(static_cast<double*>(ab.Data()), capacity_, &RelayWrap::Notify, this);
    std::string error;
    if (!relay_->start(&error)) {
      delete relay_;
      relay_ = nullptr;
      tsfn_.Release();
      Napi::Error::New(env, error).ThrowAsJavaScriptException();
      return;
    }
    // The environment may go away (process exit, worker end) before this object is collected.
    env_ = env;
    napi_add_env_cleanup_hook(env, &RelayWrap::OnEnvCleanup, this);
    hooked_ = true;
  }

  ~RelayWrap() override {
    if (hooked_) napi_remove_env_cleanup_hook(env_, &RelayWrap::OnEnvCleanup, this);
    Shutdown();
  }

 private:
  static void Notify(void* arg) {
    auto* self = static_cast<RelayWrap*>(arg);
    // Called on the relay thread; the drain runs on the JS thread.
    self->tsfn_.NonBlockingCall([self](Napi::Env env, Napi::Function fn) { self->Drain(env, fn); });
  }

  void Drain(Napi::Env env, Napi::Function fn) {
    if (relay_ == nullptr) return;
    events_.clear();
    relay_->take_events(&events_);
    for (const sb::Event& e : events_) {
      if (e.kind == sb::kEventEnd) {
        // The id is free again only now, so no later command can reach a newer connection by mistake.
        free_.push_back(e.id);
        if (--live_ == 0 && relay_ != nullptr) tsfn_.Unref(env);
      }
      fn.Call({Napi::Number::New(env, e.kind), Napi::Number::New(env, e.id), Napi::Number::New(env, e.a),
               Napi::Number::New(env, e.b), Napi::Number::New(env, e.c), Napi::Number::New(env, e.bytes_in),
               Napi::Number::New(env, e.bytes_out)});
      if (env.IsExceptionPending()) return;
    }
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<RelayWrap*>(arg);
    self->hooked_ = false;
    self->Shutdown();
  }

  void Shutdown() {
    if (relay_ == nullptr) return;
    relay_->stop();
    delete relay_;
    relay_ = nullptr;
    tsfn_.Release();
  }

  bool Usable(Napi::Env env) {
    if (relay_ != nullptr) return true;
    Napi::Error::New(env, "relay is closed").ThrowAsJavaScriptException();
    return false;
  }

  // adopt(clientFd, backendFd, tracking, maxFramePayload, maxMessageSize, headToClient?, toClient?, toBackend?, splice?)
  // dup()s both fds now (the caller destroys its sockets right after) and returns the connection id.
  Napi::Value Adopt(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[3].IsNumber() || !info[4].IsNumber()) {
      Napi::TypeError::New(env, "adopt(clientFd, backendFd, tracking, maxFramePayload, maxMessageSize, ...)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (free_.empty()) {
      Napi::RangeError::New(env, "relay is full").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int client = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
    if (client < 0) {
      Napi::Error::New(env, std::string("dup(client): ") + strerror(errno)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int backend = fcntl(info[1].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
    if (backend < 0) {
      int err = errno;
      close(client);
      Napi::Error::New(env, std::string("dup(backend): ") + strerror(err)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sb::AdoptRequest r;
    r.id = free_.back();
    free_.pop_back();
    r.client_fd = client;
    r.backend_fd = backend;
    r.options.tracking = info[2].ToBoolean().Value();
    r.options.max_frame_payload = limit_of(info[3]);
    r.options.max_message_size = limit_of(info[4]);
    if (info.Length() > 5) r.head_to_client = bytes_of(info[5]);
    if (info.Length() > 6) r.to_client = bytes_of(info[6]);
    if (info.Length() > 7) r.to_backend = bytes_of(info[7]);
    if (info.Length() > 8) r.splice = info[8].ToBoolean().Value();
    // The relay thread writes this slot from now on; JS reads it live.
    counters_[2 * r.id] = 0;
    counters_[2 * r.id + 1] = 0;
    if (live_++ == 0) tsfn_.Ref(env);
    uint32_t id = r.id;
    relay_->adopt(std::move(r));
    return Napi::Number::New(env, id);
  }

  uint32_t IdOf(const Napi::CallbackInfo& info) {
    return info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : UINT32_MAX;
  }

  Napi::Value RequestClose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    int code = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 1001;
    std::string reason = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
    relay_->request_close(IdOf(info), code, std::move(reason));
    return env.Undefined();
  }

  Napi::Value Ping(const Napi::CallbackInfo& info) {
    if (Usable(info.Env())) relay_->ping(IdOf(info));
    return info.Env().Undefined();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    if (Usable(info.Env())) relay_->destroy(IdOf(info));
    return info.Env().Undefined();
  }

  // Stops the thread; connections still open are closed without a report.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (relay_ != nullptr && live_ > 0) tsfn_.Unref(info.Env());
    live_ = 0;
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Counters(const Napi::CallbackInfo&) { return counters_ref_.Value(); }
  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), live_); }

  napi_env env_ = nullptr;
  bool hooked_ = false;
  sb::Relay* relay_ = nullptr;
  Napi::ThreadSafeFunction tsfn_;
  Napi::Float64Array counters_;
  Napi::Reference<Napi::Float64Array> counters_ref_;
  uint32_t capacity_ = 0;
  uint32_t live_ = 0;
  std::vector<uint32_t> free_;
  std::vector<sb::Event> events_;
};

// trackFrames(bytes, masked, maxFramePayload, maxMessageSize, chunk): the C++ tracker's verdict on `bytes`
// pushed `chunk` bytes at a time, as [frames, messages, closeCode, violationCode]. For the spec that holds
// the port to the TypeScript tracker (test only; no relay involved).
Napi::Value TrackFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "trackFrames(bytes, masked, maxFramePayload, maxMessageSize, chunk)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto b = info[0].As<Napi::Buffer<uint8_t>>();
  sb::FrameTracker t(info[1].ToBoolean().Value(), limit_of(info[2]), limit_of(info[3]));
  size_t chunk = info[4].As<Napi::Number>().Uint32Value();
  if (chunk == 0) chunk = 1;
  for (size_t at = 0; at < b.Length() && !t.failed(); at += chunk) {
    size_t end = at + chunk < b.Length() ? at + chunk : b.Length();
    // Each read is its own buffer, as recv() would give it.
    std::vector<uint8_t> read(b.Data() + at, b.Data() + end);
    t.push(read.data(), read.size(), 0, false);
  }
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, Napi::Number::New(env, double(t.frames())));
  out.Set(1u, Napi::Number::New(env, double(t.messages())));
  out.Set(2u, Napi::Number::New(env, t.close_code()));
  out.Set(3u, Napi::Number::New(env, t.violation_code()));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Relay", RelayWrap::Init(env));
  exports.Set("trackFrames", Napi::Function::New(env, TrackFrames));
  return exports;
}

}  // namespace

NODE_API_MODULE(switchboard_relay, Init)
