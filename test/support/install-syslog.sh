#!/usr/bin/env bash
# Installs the real syslog receiver the syslog tests run against: Debian's rsyslog with the OpenSSL
# network stream driver (`ossl`, package rsyslog-openssl) for RFC 5425 TLS, and imrelp (package
# rsyslog-relp, which brings librelp) for RELP, plain and TLS. Idempotent: does nothing when all are present. Needs root (CI containers run as root) and access to the Debian mirror.
set -euo pipefail

have_rsyslog() { command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ]; }
have_ossl() { ls /usr/lib/*/rsyslog/lmnsd_ossl.so >/dev/null 2>&1; }
have_relp() { ls /usr/lib/*/rsyslog/imrelp.so >/dev/null 2>&1; }

if have_rsyslog && have_ossl && have_relp; then
  echo "install-syslog: rsyslog with the ossl driver and imrelp is already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-syslog: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# --no-install-recommends keeps logrotate and friends out; the tests start rsyslogd themselves.
$sudo apt-get install -y -qq --no-install-recommends rsyslog rsyslog-openssl rsyslog-relp
have_rsyslog && have_ossl && have_relp || { echo "install-syslog: rsyslog, lmnsd_ossl.so or imrelp.so missing after install" >&2; exit 1; }
echo "install-syslog: installed $(/usr/sbin/rsyslogd -v | head -n 1)"
