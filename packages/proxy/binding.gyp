{
  "targets": [
    {
      "target_name": "switchboard_relay",
      "sources": ["native/src/addon.cc", "native/src/relay.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17"]
    }
  ]
}
