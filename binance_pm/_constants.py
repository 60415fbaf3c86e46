"""Defaults in one place; every number here is a Binance fact or a documented choice."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.binance.com"
DEFAULT_FUTURES_URL = "https://fapi.binance.com"

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000

# Binance's per-minute budgets: each SAPI endpoint has its own (docs: "independent").
DEFAULT_UID_WEIGHT_LIMIT = 180_000
DEFAULT_IP_WEIGHT_LIMIT = 12_000
DEFAULT_API_WEIGHT_LIMIT = 6_000  # the shared /api/* pool (server time)
DEFAULT_FUTURES_WEIGHT_LIMIT = 2_400  # the USDⓈ-M futures host's shared IP pool (/fapi)
DEFAULT_WEIGHT_WINDOW_S = 60.0
# Added to the clock's measured round trip when charging weight near a window boundary.
WEIGHT_EDGE_MARGIN_MS = 50.0

DEFAULT_MAX_WAIT_S = 60.0
DEFAULT_POOL_SIZE = 100

DEFAULT_TOTAL_TIMEOUT_S = 10.0
DEFAULT_CONNECT_TIMEOUT_S = 5.0

DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_BASE_S = 0.2
DEFAULT_BACKOFF_CAP_S = 5.0

# Server time: the first call waits for one sample; this many more follow in the background.
CLOCK_REFINE_SAMPLES = 2
# Refreshed in the background after this long; a failed refresh is retried after CLOCK_RETRY_S.
CLOCK_RESYNC_INTERVAL_S = 300.0
CLOCK_RETRY_S = 5.0
# An estimate older than this is not trusted: calls wait for a fresh sample (50 ppm drift: 90 ms).
CLOCK_MAX_AGE_S = 1800.0
# If wall time and monotonic time disagree by more than this since the last sync, the machine
# slept or its clock was stepped: resync before signing.
CLOCK_JUMP_TOLERANCE_S = 1.0

# Minimum ban Binance hands out; used when a 418 carries no usable Retry-After.
DEFAULT_BAN_S = 120.0
# The range a Retry-After is clamped to. Binance sends whole seconds, so the floor only cuts off
# values that would make a call resend in a tight loop ("0", "0.001"); the ceiling is Binance's
# longest IP ban (3 days), so a wild value cannot stop a fleet for years through the shared store.
RETRY_AFTER_MIN_S = 1.0
RETRY_AFTER_MAX_S = 3 * 86_400.0

# A response body larger than this (after decompression) fails the call: Binance's answers
# are kilobytes, and an unbounded read lets a broken proxy exhaust memory.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

HEADER_API_KEY = "X-MBX-APIKEY"
HEADER_USED_UID = "X-SAPI-USED-UID-WEIGHT-1M"
HEADER_USED_IP = "X-SAPI-USED-IP-WEIGHT-1M"
HEADER_USED_API = "X-MBX-USED-WEIGHT-1M"
