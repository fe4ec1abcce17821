#!/usr/bin/env bash
# The Debian packages the build and the tests need, installed when missing:
# gcc and python3-dev (durable_rules builds a C extension), chromium (the web
# app's browser tests drive Debian's headless Chromium, never a downloaded
# browser) and a font with Chinese characters (the estimate's chart). Called
# by `make test` / `make run` (Makefile) and by .ci/run: one place for it.
#
# `system-packages.sh build`: only what building the venv needs (make run);
# `system-packages.sh` or `… test`: all of it (make test, .ci/run).
#
# As root: apt-get update once, then install what is missing. Otherwise:
# stop at once with the one command to run (exit 1). Nothing missing: silent.
# PYTHON: the interpreter the venv is built from (the Makefile's).
# CHROMIUM_BIN and SETUP_UID only let tests/test_setup.py try the branches.
set -euo pipefail

chromium=${CHROMIUM_BIN:-/usr/bin/chromium}
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
"${PYTHON:-python3}" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null \
  || missing+=(python3-dev)
if [ "${1:-test}" != build ]; then
  [ -x "$chromium" ] || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi -e "WenQuanYi" -e "Noto Sans CJK" || missing+=(fonts-wqy-zenhei)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${SETUP_UID:-$(id -u)}" != 0 ]; then
  echo "缺少系统软件包：${missing[*]}。请先以 root 运行这一条命令，再重新执行：" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "安装缺少的系统软件包：${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"
