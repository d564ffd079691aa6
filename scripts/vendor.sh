#!/usr/bin/env bash
# Copy the browser libraries installed by npm into static/vendor/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p static/vendor
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
cp node_modules/sortablejs/Sortable.min.js static/vendor/Sortable.min.js
