#!/bin/sh
# SPDX-License-Identifier: MIT
# make-demo-creds.sh DIR [USER=PASSWORD ...]
#
# Generates throw-away credentials for the example configs into DIR:
#   ca.crt ca.key          a private CA (EC P-256, 10 years)
#   server.crt server.key  certificate for vpn.test (SAN DNS:vpn.test,
#                          IP:10.200.0.1) signed by that CA
#   users.htpasswd         alice, bob, carol hashed with `openssl passwd -6`
#   USER.pass              each user's password (first line), mode 0600
#   client.pass            alice's password (what client*.conf reads)
# A user's password is the USER=PASSWORD argument or "demo-password-USER".
# For demos and tests only: the CA key lies next to the certificates.
set -eu

die() { echo "make-demo-creds: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 DIR [USER=PASSWORD ...]"
dir=$1
shift
command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"
mkdir -p "$dir" || die "cannot create $dir"

# Keys and password files must not be readable by others.
umask 077

password_of() {
	pw="demo-password-$1"
	for arg in "$@"; do
		case $arg in
		"$1"=*) pw=${arg#*=} ;;
		esac
	done
	printf '%s' "$pw"
}

openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null ||
	die "cannot generate the CA key"
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
	-subj "/CN=tunpipe demo CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out "$dir/ca.crt" || die "cannot create the CA certificate"

openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server.key" 2>/dev/null ||
	die "cannot generate the server key"
openssl req -new -key "$dir/server.key" -subj "/CN=vpn.test" -out "$dir/server.csr" ||
	die "cannot create the server CSR"
cat >"$dir/server.ext" <<'EXT'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:vpn.test,IP:10.200.0.1
EXT
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
	-set_serial "0x$(openssl rand -hex 8)" -days 825 -sha256 \
	-extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null ||
	die "cannot sign the server certificate"
rm -f "$dir/server.csr" "$dir/server.ext"

: >"$dir/users.htpasswd"
for user in alice bob carol; do
	pw=$(password_of "$user" "$@")
	printf '%s\n' "$pw" >"$dir/$user.pass"
	# The password goes through stdin, not argv (ps would show it).
	hash=$(printf '%s\n' "$pw" | openssl passwd -6 -stdin) ||
		die "openssl passwd -6 failed"
	printf '%s:%s\n' "$user" "$hash" >>"$dir/users.htpasswd"
done
cp "$dir/alice.pass" "$dir/client.pass"
# The certificates are public.
chmod 0644 "$dir/ca.crt" "$dir/server.crt"
echo "make-demo-creds: wrote CA, vpn.test certificate, users alice/bob/carol to $dir"
