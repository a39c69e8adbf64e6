"""Ctrl-C under the command line's handler is recorded as well as raised: one that a finalizer dropped is raised
again after the next training batch (zoo.interrupts). SIGTERM ends a command as Ctrl-C does, with its own line and
exit code."""

import os
import signal
import time

import pytest

from zoo import interrupts


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the drop below is the point
def test_a_ctrl_c_that_a_finalizer_dropped_is_raised_again_after_the_next_batch():
    class Finalizer:
        def __del__(self):
            interrupts._on_sigint(signal.SIGINT, None)  # as if Ctrl-C came while Python ran this __del__

    check = interrupts.callback()
    before = signal.getsignal(signal.SIGINT)
    with interrupts.watch():
        assert signal.getsignal(signal.SIGINT) is interrupts._on_sigint
        check.on_train_batch_end(0)  # nothing asked for: training goes on
        Finalizer()  # its KeyboardInterrupt is printed as "Exception ignored" and dropped: Python's rule
        with pytest.raises(KeyboardInterrupt):
            check.on_train_batch_end(1)
    assert signal.getsignal(signal.SIGINT) is before
    interrupts.check()  # leaving watch() forgets the request


def test_a_sigterm_a_finalizer_dropped_after_training_still_ends_the_command_with_143_and_one_line(capsys):
    from zoo.cli.flags import one_line_errors

    class Finalizer:
        def __del__(self):
            interrupts._on_sigterm(signal.SIGTERM, None)  # as if SIGTERM came while the save ran a finalizer

    with pytest.raises(SystemExit) as stop, one_line_errors():
        Finalizer()  # dropped by Python, after training's last check: the body ends normally
        print("wrote runs/x/")
    assert stop.value.code == 143
    out, err = capsys.readouterr()
    assert out == "wrote runs/x/\n" and err.strip() == "error: terminated"  # no "Exception ignored" dump


def test_sigterm_ends_a_command_with_one_line_and_exit_code_143(capsys):
    from zoo.cli.flags import one_line_errors

    with pytest.raises(SystemExit) as stop, one_line_errors():
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill`, `timeout` or a scheduler sends it
        time.sleep(10)  # Python runs the handler here (without one, the process would die with no message)
    assert stop.value.code == 143
    assert capsys.readouterr().err.strip() == "error: terminated"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back


def test_a_terminated_training_run_says_how_to_resume(monkeypatch, tmp_path):
    from zoo.cli import train
    from zoo.config import ClassifierConfig, DataConfig, RunConfig
    from zoo.errors import Interrupted

    def terminated(*args):
        raise interrupts.Terminated

    monkeypatch.setattr(train, "_run", terminated)
    with pytest.raises(Interrupted) as stop:
        train.run(DataConfig(dataset="sms_spam"), RunConfig(output_dir=str(tmp_path / "run")),
                  ClassifierConfig(init="none", backup_dir=str(tmp_path / "backup")))
    assert str(stop.value) == f"terminated; rerun the same command to resume from the backup in {tmp_path / 'backup'}"
    assert stop.value.exit_code == 143
