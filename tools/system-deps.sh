#!/bin/sh
# Debian packages certflow needs on the machine, by purpose: `run` (what running needs) and
# `test` (what only the test suite needs). Says what is missing and why before installing it,
# installs only that (no recommends, no upgrade of anything already installed) and needs root
# only when something is missing. Usage: tools/system-deps.sh run [test]
set -eu

missing=""
run_missing=""
test_missing=""
why=""
need() { # need PACKAGE "why" CHECK...
    package=$1 reason=$2
    shift 2
    if ! "$@" >/dev/null 2>&1; then
        missing="$missing $package"
        case $set in
        run) run_missing="$run_missing $package" ;;
        *) test_missing="$test_missing $package" ;;
        esac
        why="$why
  $package: $reason"
    fi
}
has_font() { fc-list 2>/dev/null | grep -q "Noto Sans CJK"; }
has_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }

for set in "$@"; do
    case $set in
    run)
        need fonts-noto-cjk "the Chinese font of certificate PDFs (without it Chinese prints as boxes)" has_font
        need libpango-1.0-0 "text layout of the PDFs (weasyprint)" has_lib libpango-1.0.so
        need libpangoft2-1.0-0 "font rendering of the PDFs (weasyprint)" has_lib libpangoft2-1.0.so
        ;;
    test)
        need poppler-utils "pdftotext, read back by the PDF tests" command -v pdftotext
        need chromium "the browser the browser tests drive (tests/browser)" test -x /usr/bin/chromium
        ;;
    *) echo "usage: $0 run [test]" >&2; exit 2 ;;
    esac
done

[ -z "$missing" ] && exit 0
echo "certflow needs these Debian packages, not installed yet:$why"
if [ "$(id -u)" != 0 ]; then
    echo "Install them as root, then run this again:" >&2
    echo "  sudo apt-get install --no-install-recommends$missing" >&2
    exit 1
fi
echo "Installing them with apt-get (only these, nothing already installed is upgraded)..."
apt-get update -qq
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086  # one word per package
if [ -n "$run_missing" ]; then
    apt-get install -y -qq --no-install-recommends --no-upgrade $run_missing
fi
# The browser with its recommended packages, as the browser tests have always had it.
# shellcheck disable=SC2086
if [ -n "$test_missing" ]; then
    apt-get install -y -qq --no-upgrade $test_missing
fi
