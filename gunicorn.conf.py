"""gunicorn's settings for the web process; gunicorn reads this file from its working directory.

Command-line flags (workers, bind) still win, so docker-compose and the benchmarks set those.
"""


def post_worker_init(worker):
    # Each forked process warms its own caches: the matching arrays live in process memory.
    from config.warmup import warm_in_background

    warm_in_background()
