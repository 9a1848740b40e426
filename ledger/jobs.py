"""The ledger's periodic jobs (core.scheduler). The checkpoint itself (chain.seal) runs every round
from the scheduler's own list; the daily digest is this app's."""

from . import digests

JOBS = [("ledger_daily_digest", digests.send_daily)]
