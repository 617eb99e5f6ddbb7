"""deferred_signals: Ctrl-C and SIGTERM held until the run loop's next check, never raised inside a kernel."""

from __future__ import annotations

import os
import signal

import pytest

from aubench.pipeline.errors import Terminated, check_stop, deferred_signals


@pytest.fixture(autouse=True)
def _restore_handlers():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("sig, exc", [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)])
def test_a_signal_waits_for_the_next_check(sig, exc):
    reached = []
    with pytest.raises(exc):
        with deferred_signals():
            os.kill(os.getpid(), sig)  # the handler runs here, between bytecodes, and only records it
            reached.append("after the signal")
            check_stop()
            reached.append("after the check")
    assert reached == ["after the signal"]


def test_a_second_signal_raises_at_once_and_a_late_one_is_not_lost():
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            pytest.fail("the second signal should have raised")
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)  # after the last check: raised on leaving
    with deferred_signals():
        pass  # nothing pending: nothing raised
    check_stop()
