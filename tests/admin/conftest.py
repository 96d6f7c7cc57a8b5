"""The admin tests run the whole gateway against the Google emulator (tests/engine's
stack), with its check that no log line carries personal data."""

from tests.engine.conftest import emulator, logs_carry_no_personal_data, stack

__all__ = ["emulator", "logs_carry_no_personal_data", "stack"]
