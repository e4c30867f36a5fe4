"""llmos_init.signals is the signal module without its enums: the same functions, and the
names signal.Signals gives."""
import signal

from llmos_init import signals


def test_names_and_numbers_are_the_signal_modules():
    for n in range(0, 80):
        try:
            want = signal.Signals(n).name
        except ValueError:
            want = None
        try:
            got = signals.name(n)
        except ValueError:
            got = None
        assert got == want, n
    assert signals.NUMBERS == {k: int(v) for k, v in signal.Signals.__members__.items()}
    assert signals.valid_signals() == signal.valid_signals()
    assert (signals.SIGTERM, signals.SIG_IGN, signals.SIG_DFL) == (15, 1, 0)
    assert signals.signal is not signal.signal and signals.getsignal(signals.SIGTERM) is not None
