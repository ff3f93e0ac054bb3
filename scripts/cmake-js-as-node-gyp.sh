#!/bin/sh
# Lets prebuildify drive cmake-js (so prebuilds can include CUDA):
#   prebuildify --napi --strip --node-gyp ./scripts/cmake-js-as-node-gyp.sh
# prebuildify calls this as `<bin> rebuild --target=.. --devdir=.. --arch=.. --release` and then collects
# build/Release/*.node. cmake-js needs none of those flags (headers come from node-api-headers), only the config.
cfg=Release; for a in "$@"; do [ "$a" = "--debug" ] && cfg=Debug; done
exec "$(dirname "$0")/../node_modules/.bin/cmake-js" rebuild --config "$cfg"
