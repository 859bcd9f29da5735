"""gunicorn settings for the web process (README, "Deployment").

    gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'

Why these values:

- ``gthread`` workers, several threads each. A sync worker is one request at a time, so two
  clients trickling a request body a byte at a time hold two sync workers, and with them the
  whole line (webhooks, console, health probes). A gthread worker parks idle keep-alive
  connections in its poller and gives each request one of its threads: a slow client costs
  one thread, not a worker, and the other threads keep answering.
- nginx in front (deploy/nginx/hotline.conf) buffers every request body before it reaches
  gunicorn and drops clients that stop sending, so in production a slow client costs gunicorn
  nothing at all. The threads are the second line, for the minutes nginx is misconfigured or
  bypassed.
- Nothing slow runs inside a request (the scheduler sends, renders and calls out), so a
  request that takes longer than ``timeout`` is a stuck worker: the master restarts it.
- ``graceful_timeout`` stays below systemd's ``TimeoutStopSec=30`` so a stop or restart lets
  running requests finish instead of being killed mid-write.

Command-line flags win over this file (``-b``, ``-w``), and so does ``GUNICORN_CMD_ARGS``.
"""

import multiprocessing

# Only nginx talks to gunicorn: listen on loopback.
bind = "127.0.0.1:8000"

worker_class = "gthread"
# Two cores serve four workers of eight threads: 32 requests at once, far above the line's
# load (a webhook is a few milliseconds of work), with room for slow clients.
workers = min(4, 2 * multiprocessing.cpu_count())
threads = 8
# Connections a worker keeps open (keep-alive and waiting) besides its busy threads.
worker_connections = 200

# A request working longer than this is a stuck worker; the master replaces it.
timeout = 30
# Leave running requests time to finish on stop/restart, under systemd's TimeoutStopSec=30.
graceful_timeout = 25
# nginx keeps upstream connections open; an idle one is closed after this many seconds.
keepalive = 5

# Refuse oversized request lines and headers before the app sees them (gunicorn's 400).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Recycle workers now and then (staggered), so a slow leak never becomes an outage.
max_requests = 5000
max_requests_jitter = 500

# The app trusts X-Forwarded-* through HOTLINE_PROXY_HOPS (werkzeug ProxyFix), not gunicorn:
# gunicorn itself trusts forwarded headers only from loopback, where nginx is.
forwarded_allow_ips = "127.0.0.1,::1"

# journald keeps both logs (systemd captures stdout/stderr). The access log holds paths and
# status codes only: phone numbers travel in request bodies, never in URLs.
accesslog = "-"
errorlog = "-"
loglevel = "info"
