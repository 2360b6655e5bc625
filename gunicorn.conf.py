"""gunicorn's settings for the web process; gunicorn reads this file from its working directory.

Command-line flags (workers, bind) still win, so docker-compose and the benchmarks set those.
"""

# Threads, not gunicorn's default sync workers: a sync worker is idle while its one request waits on
# PostgreSQL (every API read that shows a contact waits for the access log's commit to reach disk)
# (docker-compose.yml's nginx buffers slow clients, as gunicorn asks for sync workers, but not the
# database). Two threads a process keep the GIL's contention low.
worker_class = "gthread"
threads = 2
# Each response closes its connection, as sync workers do: a kept-alive connection that the server
# closes when idle can meet a client's next request on the way (a reset the client cannot retry
# safely for a POST; the load test saw seven in 45 s).
keepalive = 0
# The access log names the client by the address the lockout and throttles use (TRUSTED_PROXY_COUNT
# hops into X-Forwarded-For), and blanks secrets in query strings (a key sent as ?api_key=).
logger_class = "ops.access_log.AccessLogger"


def post_worker_init(worker):
    # Each forked process warms its own caches: the matching arrays live in process memory.
    from config.warmup import warm_in_background

    warm_in_background()
