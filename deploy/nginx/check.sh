#!/bin/sh
# Check deploy/nginx/nginx.conf with nginx's own validator (`nginx -t`), as the proxy container loads
# it: from a directory laid out like the image's /etc/nginx, with a throw-away self-signed certificate
# standing in for the office's. Usage: deploy/nginx/check.sh [NGINX-BINARY] [MIME.TYPES]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nginx=${1:-nginx}
mime=${2:-/etc/nginx/mime.types}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
mkdir -p "$prefix/certs"
cp "$here/nginx.conf" "$prefix/nginx.conf"
cp "$mime" "$prefix/mime.types"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=crm.example.org" \
  -keyout "$prefix/certs/privkey.pem" -out "$prefix/certs/fullchain.pem" 2>/dev/null
"$nginx" -t -e stderr -p "$prefix/" -c "$prefix/nginx.conf"
