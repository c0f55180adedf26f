# nginx from Debian on loopback, serving $WORK/www to the remote-source
# tests; sourced after tests/lib.sh.  One process (master_process off),
# started in the foreground in the background so the test holds its PID,
# and killed by that PID on exit.  Its access log records each request's
# range and Authorization header ($WORK/access.log).  What every remote
# test needs (a mount as root, and fusermount3 for the user's) is checked
# here too.
need_root
need_cmd fusermount3
[ -c /dev/fuse ] || skip "needs /dev/fuse"
need_cmd nginx

NGINX_PID=""
WWW=$WORK/www
mkdir -p "$WWW"

# A free TCP port on 127.0.0.1 (the kernel's choice).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx_start [PORT]: http on PORT (default: a free one, kept in $PORT),
# with $NGINX_EXTRA in its server block; https on $TLS_PORT with
# $WORK/tls.crt if that exists.
nginx_start() {
	PORT=${1:-${PORT:-$(free_port)}}
	local tls=""
	if [ -f "$WORK/tls.crt" ]; then
		TLS_PORT=${TLS_PORT:-$(free_port)}
		tls="server { listen 127.0.0.1:$TLS_PORT ssl; root $WWW;
			ssl_certificate $WORK/tls.crt; ssl_certificate_key $WORK/tls.key; }"
	fi
	mkdir -p "$WORK/nginx"
	cat >"$WORK/nginx/nginx.conf" <<-CONF
	daemon off;
	master_process off;
	pid $WORK/nginx/nginx.pid;
	error_log $WORK/nginx/error.log;
	events { worker_connections 256; }
	http {
		log_format ranges '\$request \$status \$body_bytes_sent "\$http_range" "\$http_authorization"';
		access_log $WORK/access.log ranges;
		client_body_temp_path $WORK/nginx/body;
		proxy_temp_path $WORK/nginx/proxy;
		fastcgi_temp_path $WORK/nginx/fastcgi;
		uwsgi_temp_path $WORK/nginx/uwsgi;
		scgi_temp_path $WORK/nginx/scgi;
		server { listen 127.0.0.1:$PORT; root $WWW; ${NGINX_EXTRA:-} }
		$tls
	}
	CONF
	nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>>"$WORK/nginx/error.log" &
	NGINX_PID=$!
	for _ in $(seq 1 100); do
		port_open "$PORT" && return 0
		kill -0 "$NGINX_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "nginx did not start: $(tail -5 "$WORK/nginx/error.log")"
}

# Is anything listening on 127.0.0.1:PORT?  (bash's /dev/tcp: no process
# to start, which counts on a loaded machine.)
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

nginx_stop() {
	[ -n "$NGINX_PID" ] || return 0
	kill "$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=""
}
cleanup_hooks="unmount_all nginx_stop ${cleanup_hooks#unmount_all }"

# A self-signed certificate for 127.0.0.1, made here with openssl.
make_certificate() {
	need_cmd openssl
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 \
		-keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null ||
		fail "openssl could not make a certificate"
}

# Requests in the access log so far.
requests_logged() { wc -l <"$WORK/access.log"; }

# The remote.* counters of the last stats record as shell variables
# (r_requests, r_bytes, r_offline (0 or 1)...): one process, not one a
# counter.
remote_counters() {
	eval "$(python3 -c 'import json, sys
for k, v in json.load(open(sys.argv[1]))["remote"].items():
    print("r_%s=%d" % (k, v))' "$STATS")" || fail "no remote counters in $STATS"
}
