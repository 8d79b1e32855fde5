"""A real SMTP server on loopback that keeps what it receives (aiosmtpd), for report and
alert e-mails: the code under test speaks SMTP for real, the test reads the parsed messages.

It runs in a thread of the calling process (aiosmtpd's Controller); the sender may be
another process. No TLS: STARTTLS is not offered, and AUTH is allowed over plain TCP (any
login is accepted unless `credentials` are given, then only those, and AUTH is required).
"""

from __future__ import annotations

import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiinfra_shared.procs.binaries import MissingBinaryError
from aiinfra_shared.procs.ports import free_port

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Delivery:
    """One accepted message with its envelope (Bcc recipients appear only in `rcpt_tos`)."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    login: str | None  # the AUTH user name, when the client logged in


class _Collector:
    """aiosmtpd handler: parse each DATA into an EmailMessage and hand it to the server."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          mail_options: list[str]) -> str:
        # aiosmtpd's own auth_required warns on every connection without TLS: check here
        if self.owner.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        message = BytesParser(policy=email.policy.default).parsebytes(data)
        auth = getattr(session, "auth_data", None)
        login = getattr(auth, "login", None)
        self.owner._deliver(Delivery(
            message=message, mail_from=str(envelope.mail_from),
            rcpt_tos=[str(r) for r in envelope.rcpt_tos],
            login=login.decode() if isinstance(login, bytes) else login,
        ))
        return "250 Message accepted for delivery"


class SmtpServer:
    """SMTP on 127.0.0.1:`port`; `.messages` are `email.message.EmailMessage` objects."""

    def __init__(self, port: int | None = None,
                 credentials: tuple[str, str] | None = None) -> None:
        self.host = LOOPBACK
        self.port = port or free_port()
        self.credentials = credentials
        self._deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        self._controller: Any = None

    def start(self) -> SmtpServer:
        try:
            from aiosmtpd.controller import Controller
            from aiosmtpd.smtp import AuthResult, LoginPassword
        except ImportError as exc:
            raise MissingBinaryError("aiosmtpd", "install the extra aiinfra-shared[smtp]") from exc

        expected = self.credentials

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:
            if expected is None:
                return AuthResult(success=True, auth_data=auth_data)
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(), auth_data.password.decode()) == expected
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        self._controller = Controller(
            _Collector(self), hostname=self.host, port=self.port, authenticator=authenticator,
            auth_require_tls=False, enable_SMTPUTF8=True,
        )
        self._controller.start()  # returns once the server answers its greeting
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _deliver(self, delivery: Delivery) -> None:
        with self._changed:
            self._deliveries.append(delivery)
            self._changed.notify_all()

    @property
    def deliveries(self) -> list[Delivery]:
        with self._changed:
            return list(self._deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, in arrival order."""
        return [d.message for d in self.deliveries]

    def clear(self) -> None:
        with self._changed:
            self._deliveries.clear()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until at least `count` messages arrived and return all of them.

        Raises TimeoutError with the subjects received so far: senders often deliver from a
        background thread or another process, after the call under test returned.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    subjects = [d.message["Subject"] for d in self._deliveries]
                    raise TimeoutError(f"expected {count} message(s) within {timeout}s, got "
                                       f"{len(self._deliveries)}: {subjects}")
                self._changed.wait(left)
            return [d.message for d in self._deliveries]
