# The CPU addon (node-gyp): what `npm install` builds when no prebuild matches and what prebuildify packs.
# CMakeLists.txt builds the same sources (plus cuda/ when nvcc is found). Only the per-ISA kernel files get
# ISA flags, each in its own static library; everything else is built for the baseline ISA.
{
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-O3", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES"
    }
  },
  "targets": [
    {
      "target_name": "nodeformer",
      "sources": ["<!@(node scripts/native-sources.cjs base)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["nodeformer_avx2", "nodeformer_avx512", "nodeformer_avx512bf16", "nodeformer_avx512vnni"] }],
        ["target_arch=='arm64'", { "dependencies": ["nodeformer_neon"] }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "nodeformer_avx2",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.cjs avx2)"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] }
        },
        {
          "target_name": "nodeformer_avx512",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.cjs avx512)"],
          "cflags_cc": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx2", "-mfma"] }
        },
        {
          "target_name": "nodeformer_avx512bf16",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.cjs avx512bf16)"],
          "cflags_cc": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512bf16", "-mamx-tile", "-mamx-bf16", "-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512bf16", "-mamx-tile", "-mamx-bf16", "-mavx2", "-mfma"] }
        },
        {
          "target_name": "nodeformer_avx512vnni",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.cjs avx512vnni)"],
          "cflags_cc": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512vnni", "-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mavx512vnni", "-mavx2", "-mfma"] }
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "nodeformer_neon",
          "type": "static_library",
          "sources": ["<!@(node scripts/native-sources.cjs neon)"]
        }
      ]
    }]
  ]
}
