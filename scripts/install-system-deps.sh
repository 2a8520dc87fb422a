#!/usr/bin/env bash
# Install Debian's Chromium, PostgreSQL and R's haven when they are missing (browser,
# PostgreSQL and labelled-export tests).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql)
# R's haven: the independent reader the labelled-export tests open .sav and .dta with.
Rscript -e 'library(haven); library(jsonlite)' >/dev/null 2>&1 || need+=(r-cran-haven r-cran-jsonlite)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing system packages: ${need[*]}; install them with apt-get as root." >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian's packages..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
